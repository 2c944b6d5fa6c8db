// Confusion matrix and the per-class scores derived from it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn {

class ConfusionMatrix {
public:
    explicit ConfusionMatrix(std::size_t classes = 0) : classes_(classes), counts_(classes * classes) {}

    void add(std::size_t truth, std::size_t predicted) {
        if (truth >= classes_ || predicted >= classes_)
            throw std::out_of_range("ctnn: confusion matrix of " + std::to_string(classes_) +
                                    " classes got class " + std::to_string(std::max(truth, predicted)));
        ++counts_[truth * classes_ + predicted];
    }

    std::size_t classes() const { return classes_; }
    // Samples of class `truth` predicted as `predicted`.
    std::size_t count(std::size_t truth, std::size_t predicted) const {
        return counts_[truth * classes_ + predicted];
    }
    std::size_t total() const {
        std::size_t sum = 0;
        for (std::size_t c : counts_) sum += c;
        return sum;
    }
    double accuracy() const {
        std::size_t correct = 0;
        for (std::size_t c = 0; c < classes_; ++c) correct += count(c, c);
        return total() ? double(correct) / double(total()) : 0.0;
    }
    // Of the samples predicted as c, the fraction that are c.
    double precision(std::size_t c) const {
        std::size_t predicted = 0;
        for (std::size_t t = 0; t < classes_; ++t) predicted += count(t, c);
        return predicted ? double(count(c, c)) / double(predicted) : 0.0;
    }
    // Of the samples of class c, the fraction predicted as c.
    double recall(std::size_t c) const {
        std::size_t actual = support(c);
        return actual ? double(count(c, c)) / double(actual) : 0.0;
    }
    double f1(std::size_t c) const {
        double p = precision(c), r = recall(c);
        return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
    }
    std::size_t support(std::size_t c) const {
        std::size_t actual = 0;
        for (std::size_t p = 0; p < classes_; ++p) actual += count(c, p);
        return actual;
    }
    double macro_f1() const {
        double sum = 0.0;
        for (std::size_t c = 0; c < classes_; ++c) sum += f1(c);
        return classes_ ? sum / double(classes_) : 0.0;
    }

    // The matrix (rows: true class, columns: predicted), then scikit-learn's
    // classification report.
    void print(std::ostream& out) const {
        char line[128];
        out << "confusion matrix (rows: true class, columns: predicted)\n      ";
        for (std::size_t p = 0; p < classes_; ++p) {
            std::snprintf(line, sizeof line, "%6zu", p);
            out << line;
        }
        out << '\n';
        for (std::size_t t = 0; t < classes_; ++t) {
            std::snprintf(line, sizeof line, "%6zu", t);
            out << line;
            for (std::size_t p = 0; p < classes_; ++p) {
                std::snprintf(line, sizeof line, "%6zu", count(t, p));
                out << line;
            }
            out << '\n';
        }
        out << "\nclass  precision  recall  f1-score  support\n";
        for (std::size_t c = 0; c < classes_; ++c) {
            std::snprintf(line, sizeof line, "%5zu  %9.4f  %6.4f  %8.4f  %7zu\n", c, precision(c),
                          recall(c), f1(c), support(c));
            out << line;
        }
        std::snprintf(line, sizeof line, "accuracy %.4f, macro F1 %.4f over %zu samples\n",
                      accuracy(), macro_f1(), total());
        out << line;
    }

private:
    std::size_t classes_;
    std::vector<std::size_t> counts_;
};

} // namespace ctnn
