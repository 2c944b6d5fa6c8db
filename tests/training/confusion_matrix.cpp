#include <ctnn/losses/loss.hpp>
#include <ctnn/training/batching.hpp>
#include <ctnn/training/confusion_matrix.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/backends.hpp"

namespace training_confusion_matrix_test {

// Ten samples over three classes (rows: true class, columns: predicted):
//
//          0  1  2
//     0    3  1  0     support 4
//     1    2  2  0     support 4
//     2    1  1  0     support 2, and class 2 is never predicted
//
// Column sums (times predicted): 6, 4, 0.
ctnn::ConfusionMatrix example() {
    const std::vector<std::pair<std::size_t, std::size_t>> pairs{
        {0, 0}, {1, 0}, {2, 1}, {0, 1}, {1, 1}, {0, 0}, {2, 0}, {1, 0}, {0, 0}, {1, 1}};
    ctnn::ConfusionMatrix m(3);
    for (auto [truth, predicted] : pairs) m.add(truth, predicted);
    return m;
}

TEST_SUITE("training/confusion_matrix") {

TEST_CASE("counts land at (true class, predicted class)") {
    const ctnn::ConfusionMatrix m = example();
    CHECK(m.classes() == 3);
    const std::size_t expected[3][3] = {{3, 1, 0}, {2, 2, 0}, {1, 1, 0}};
    for (std::size_t t = 0; t < 3; ++t)
        for (std::size_t p = 0; p < 3; ++p) {
            CAPTURE(t);
            CAPTURE(p);
            CHECK(m.count(t, p) == expected[t][p]);
        }
    CHECK(m.total() == 10);
    CHECK(m.support(0) == 4);
    CHECK(m.support(1) == 4);
    CHECK(m.support(2) == 2);
}

TEST_CASE("accuracy, precision, recall and F1 from the counts") {
    const ctnn::ConfusionMatrix m = example();
    // Diagonal 3 + 2 + 0 = 5 of 10.
    CHECK(m.accuracy() == doctest::Approx(0.5));

    // Class 0: precision 3/6, recall 3/4, F1 = 2 (1/2)(3/4) / (1/2 + 3/4) = (3/4) / (5/4) = 3/5.
    CHECK(m.precision(0) == doctest::Approx(1.0 / 2));
    CHECK(m.recall(0) == doctest::Approx(3.0 / 4));
    CHECK(m.f1(0) == doctest::Approx(3.0 / 5));

    // Class 1: precision 2/4, recall 2/4, F1 = 1/2.
    CHECK(m.precision(1) == doctest::Approx(1.0 / 2));
    CHECK(m.recall(1) == doctest::Approx(1.0 / 2));
    CHECK(m.f1(1) == doctest::Approx(1.0 / 2));

    // Class 2 is never predicted: precision 0/0 is reported as 0 (scikit-learn's
    // zero_division=0), not NaN; recall 0/2; F1 0.
    CHECK_FALSE(std::isnan(m.precision(2)));
    CHECK(m.precision(2) == 0.0);
    CHECK(m.recall(2) == 0.0);
    CHECK_FALSE(std::isnan(m.f1(2)));
    CHECK(m.f1(2) == 0.0);

    // Macro F1: (3/5 + 1/2 + 0) / 3 = 11/30.
    CHECK(m.macro_f1() == doctest::Approx(11.0 / 30));
}

TEST_CASE("an empty matrix scores 0 everywhere, never NaN") {
    const ctnn::ConfusionMatrix m(3);
    CHECK(m.total() == 0);
    CHECK(m.accuracy() == 0.0);
    for (std::size_t c = 0; c < 3; ++c) {
        CAPTURE(c);
        CHECK(m.precision(c) == 0.0);
        CHECK(m.recall(c) == 0.0);
        CHECK(m.f1(c) == 0.0);
        CHECK(m.support(c) == 0);
    }
    CHECK(m.macro_f1() == 0.0);
}

TEST_CASE("print shows the matrix and the classification report") {
    std::ostringstream out;
    example().print(out);
    const std::string text = out.str();
    CAPTURE(text);
    CHECK(text.find("confusion matrix") != std::string::npos);
    CHECK(text.find("macro F1") != std::string::npos);
    // 11/30 = 0.36667 and 0.5 at four decimals.
    CHECK(text.find("0.3667") != std::string::npos);
    CHECK(text.find("0.5000") != std::string::npos);
    CHECK(text.find("nan") == std::string::npos);
}

TEST_CASE_TEMPLATE("predicted and true classes of one-hot, sparse and binary rows", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    using ctnn::detail::count_correct;
    using ctnn::detail::predicted_class;
    using ctnn::detail::true_class;

    // Argmax rows: 1, 0, 2, and a tie that goes to the first maximum (0), as argmax does.
    const std::vector<float> scores{0.1f, 0.7f, 0.2f,  //
                                    0.5f, 0.3f, 0.2f,  //
                                    0.2f, 0.2f, 0.6f,  //
                                    0.4f, 0.4f, 0.2f};
    // True classes 1, 2, 2, 0: rows 0, 2 and 3 are right.
    SUBCASE("one-hot targets") {
        const std::vector<float> one_hot{0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0};
        const ctnn::LossBatch b{scores.data(), one_hot.data(), 4, 3, 3};
        const std::size_t predicted[] = {1, 0, 2, 0}, truth[] = {1, 2, 2, 0};
        for (std::size_t r = 0; r < 4; ++r) {
            CAPTURE(r);
            CHECK(predicted_class(b, r) == predicted[r]);
            CHECK(true_class(b, r) == truth[r]);
        }
        CHECK(count_correct(backend, b) == 3);
    }
    SUBCASE("sparse class indices") {
        const std::vector<float> indices{1, 2, 2, 0};
        const ctnn::LossBatch b{scores.data(), indices.data(), 4, 3, 1};
        const std::size_t predicted[] = {1, 0, 2, 0}, truth[] = {1, 2, 2, 0};
        for (std::size_t r = 0; r < 4; ++r) {
            CAPTURE(r);
            CHECK(predicted_class(b, r) == predicted[r]);
            CHECK(true_class(b, r) == truth[r]);
        }
        CHECK(count_correct(backend, b) == 3);
    }
    SUBCASE("one output, thresholded at 0.5") {
        // Strictly above 0.5 is class 1: 0.2 -> 0, 0.7 -> 1, 0.5 -> 0, 0.9 -> 1.
        const std::vector<float> probabilities{0.2f, 0.7f, 0.5f, 0.9f};
        // Targets read the same way, so a soft label 0.8 counts as 1.
        const std::vector<float> targets{0.0f, 0.8f, 1.0f, 0.0f};
        const ctnn::LossBatch b{probabilities.data(), targets.data(), 4, 1, 1};
        const std::size_t predicted[] = {0, 1, 0, 1}, truth[] = {0, 1, 1, 0};
        for (std::size_t r = 0; r < 4; ++r) {
            CAPTURE(r);
            CHECK(predicted_class(b, r) == predicted[r]);
            CHECK(true_class(b, r) == truth[r]);
        }
        // Rows 0 and 1 agree.
        CHECK(count_correct(backend, b) == 2);
    }
}

} // TEST_SUITE

} // namespace training_confusion_matrix_test
