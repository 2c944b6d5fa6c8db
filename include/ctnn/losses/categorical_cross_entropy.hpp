// Categorical cross-entropy, -sum(t * log p) averaged over rows. Targets are
// either one-hot/probability rows (target width = classes) or sparse class
// indices (target width 1), so Keras's two losses are one here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/layers/softmax.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn {

struct CategoricalCrossEntropy {
    static constexpr const char* name = "categorical cross-entropy";
    // Keras clips probabilities to [eps, 1 - eps] before the log.
    static constexpr float epsilon = 1e-7f;

    // Softmax + cross-entropy fold to the gradient p - t on the logits: one
    // pass, and no division by a probability that may have underflowed.
    template <class OutputLayer>
    static constexpr bool folds_into = std::is_same_v<OutputLayer, Softmax>;

    float value(const LossBatch& b) const {
        check(b);
        double total = 0.0;
        for (std::size_t r = 0; r < b.rows; ++r) {
            const float* p = b.predictions + r * b.width;
            if (sparse(b)) {
                total -= std::log(clip(p[label(b, r)]));
            } else {
                const float* t = b.targets + r * b.width;
                for (std::size_t c = 0; c < b.width; ++c)
                    if (t[c] != 0.0f) total -= t[c] * std::log(clip(p[c]));
            }
        }
        return float(total / double(b.rows));
    }

    // d(mean loss)/d(predictions)
    void gradient(const LossBatch& b, float* out) const {
        check(b);
        const float scale = 1.0f / float(b.rows);
        for (std::size_t r = 0; r < b.rows; ++r) {
            const float* p = b.predictions + r * b.width;
            float* g = out + r * b.width;
            for (std::size_t c = 0; c < b.width; ++c) {
                float t = target(b, r, c);
                float clipped = clip(p[c]);
                // The clip's derivative is zero outside [eps, 1 - eps].
                g[c] = (t == 0.0f || clipped != p[c]) ? 0.0f : -scale * t / clipped;
            }
        }
    }

    // d(mean loss)/d(logits) when the predictions are softmax(logits).
    void folded_gradient(const LossBatch& b, float* out) const {
        check(b);
        const float scale = 1.0f / float(b.rows);
        for (std::size_t r = 0; r < b.rows; ++r) {
            const float* p = b.predictions + r * b.width;
            float* g = out + r * b.width;
            for (std::size_t c = 0; c < b.width; ++c) g[c] = scale * (p[c] - target(b, r, c));
        }
    }

private:
    static float clip(float p) { return std::clamp(p, epsilon, 1.0f - epsilon); }
    static bool sparse(const LossBatch& b) { return b.target_width == 1 && b.width > 1; }
    static std::size_t label(const LossBatch& b, std::size_t row) {
        return static_cast<std::size_t>(b.targets[row]);
    }
    static float target(const LossBatch& b, std::size_t row, std::size_t column) {
        if (sparse(b)) return label(b, row) == column ? 1.0f : 0.0f;
        return b.targets[row * b.width + column];
    }

    static void check(const LossBatch& b) {
        if (b.target_width != b.width && b.target_width != 1)
            throw std::invalid_argument(
                "ctnn: categorical cross-entropy needs targets of width " +
                std::to_string(b.width) + " (one-hot) or 1 (class index), got width " +
                std::to_string(b.target_width));
        if (sparse(b))
            for (std::size_t r = 0; r < b.rows; ++r)
                if (!(b.targets[r] >= 0.0f && b.targets[r] < float(b.width)))
                    throw std::invalid_argument("ctnn: class index " +
                                                std::to_string(b.targets[r]) +
                                                " is outside 0.." + std::to_string(b.width - 1));
    }
};

} // namespace ctnn
