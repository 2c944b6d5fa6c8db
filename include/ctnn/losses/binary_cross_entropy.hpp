// Binary cross-entropy over independent outputs in (0, 1), averaged over all
// values: -(t log p + (1 - t) log(1 - p)).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/layers/activations.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn {

struct BinaryCrossEntropy {
    static constexpr const char* name = "binary cross-entropy";
    static constexpr float epsilon = 1e-7f;

    // Sigmoid + binary cross-entropy fold to p - t on the logits.
    template <class OutputLayer>
    static constexpr bool folds_into = std::is_same_v<OutputLayer, Sigmoid>;

    float value(const LossBatch& b) const {
        check(b);
        double total = 0.0;
        for (std::size_t i = 0; i < b.rows * b.width; ++i) {
            float p = clip(b.predictions[i]), t = b.targets[i];
            total -= t * std::log(p) + (1.0f - t) * std::log(1.0f - p);
        }
        return float(total / double(b.rows * b.width));
    }

    void gradient(const LossBatch& b, float* out) const {
        check(b);
        const float scale = 1.0f / float(b.rows * b.width);
        for (std::size_t i = 0; i < b.rows * b.width; ++i) {
            float p = clip(b.predictions[i]), t = b.targets[i];
            out[i] = p != b.predictions[i] ? 0.0f : scale * (p - t) / (p * (1.0f - p));
        }
    }

    void folded_gradient(const LossBatch& b, float* out) const {
        check(b);
        const float scale = 1.0f / float(b.rows * b.width);
        for (std::size_t i = 0; i < b.rows * b.width; ++i)
            out[i] = scale * (b.predictions[i] - b.targets[i]);
    }

private:
    static float clip(float p) { return std::clamp(p, epsilon, 1.0f - epsilon); }
    static void check(const LossBatch& b) { require_target_per_output(b, name); }
};

} // namespace ctnn
