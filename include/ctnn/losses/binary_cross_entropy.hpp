// Binary cross-entropy over independent outputs in (0, 1), averaged over all
// values: -(t log p + (1 - t) log(1 - p)).
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/config.hpp"
#include "ctnn/layers/activations.hpp"
#include "ctnn/losses/categorical_cross_entropy.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn {

namespace detail {

struct BinaryCrossEntropyOf {
    LossBatch b;
    static std::size_t count(const LossBatch& b) { return b.rows * b.width; }
    CTNN_HOST_DEVICE double operator()(std::size_t i) const {
        const float p = clip_probability(b.predictions[i]), t = b.targets[i];
        return -double(t * std::log(p) + (1.0f - t) * std::log(1.0f - p));
    }
};

struct BinaryCrossEntropyGradient {
    LossBatch b;
    float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float scale = 1.0f / float(b.rows * b.width);
        const float p = clip_probability(b.predictions[i]), t = b.targets[i];
        out[i] = p != b.predictions[i] ? 0.0f : scale * (p - t) / (p * (1.0f - p));
    }
};

// With p = sigmoid(logits): (p - t) / values.
struct SigmoidCrossEntropyGradient {
    LossBatch b;
    float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        out[i] = (1.0f / float(b.rows * b.width)) * (b.predictions[i] - b.targets[i]);
    }
};

} // namespace detail

struct BinaryCrossEntropy
    : FunctorLoss<BinaryCrossEntropy, detail::BinaryCrossEntropyOf, detail::BinaryCrossEntropyGradient,
                  detail::SigmoidCrossEntropyGradient> {
    static constexpr std::string_view name = "binary cross-entropy";

    // Sigmoid + binary cross-entropy fold to p - t on the logits.
    template <class OutputLayer>
    static constexpr bool folds_into = std::is_same_v<OutputLayer, Sigmoid>;

    template <class Backend>
    static void check(const Backend&, const LossBatch& b) {
        require_target_per_output(b, name);
    }
};

} // namespace ctnn
