// Mean squared error over all values.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/losses/loss.hpp"

namespace ctnn {

struct MeanSquaredError {
    static constexpr const char* name = "mean squared error";

    template <class OutputLayer>
    static constexpr bool folds_into = false;

    float value(const LossBatch& b) const {
        check(b);
        double total = 0.0;
        for (std::size_t i = 0; i < b.rows * b.width; ++i) {
            double d = double(b.predictions[i]) - b.targets[i];
            total += d * d;
        }
        return float(total / double(b.rows * b.width));
    }

    void gradient(const LossBatch& b, float* out) const {
        check(b);
        const float scale = 2.0f / float(b.rows * b.width);
        for (std::size_t i = 0; i < b.rows * b.width; ++i)
            out[i] = scale * (b.predictions[i] - b.targets[i]);
    }

private:
    static void check(const LossBatch& b) { require_target_per_output(b, name); }
};

} // namespace ctnn
