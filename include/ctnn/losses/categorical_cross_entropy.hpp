// Categorical cross-entropy, -sum(t * log p) averaged over rows. Targets are
// either one-hot/probability rows (target width = classes) or sparse class
// indices (target width 1), so Keras's two losses are one here.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/layers/softmax.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn {

namespace detail {

// Keras clips probabilities to [eps, 1 - eps] before the log.
CTNN_HOST_DEVICE inline float clip_probability(float p) {
    constexpr float epsilon = 1e-7f;
    return p < epsilon ? epsilon : (p > 1.0f - epsilon ? 1.0f - epsilon : p);
}

CTNN_HOST_DEVICE inline float log_of_clipped(float p) { return std::log(clip_probability(p)); }

// Targets are class indices when there is one per row for more than one class.
CTNN_HOST_DEVICE inline bool sparse(const LossBatch& b) { return b.target_width == 1 && b.width > 1; }
CTNN_HOST_DEVICE inline std::size_t label(const LossBatch& b, std::size_t row) {
    return std::size_t(b.targets[row]);
}
// A row's target as class probabilities: a one-hot/probability row, or a class index.
CTNN_HOST_DEVICE inline float target(const LossBatch& b, std::size_t row, std::size_t column) {
    if (sparse(b)) return label(b, row) == column ? 1.0f : 0.0f;
    return b.targets[row * b.width + column];
}

struct CrossEntropyOfRow {
    LossBatch b;
    static std::size_t count(const LossBatch& b) { return b.rows; }
    CTNN_HOST_DEVICE double operator()(std::size_t r) const {
        const float* p = b.predictions + r * b.width;
        if (sparse(b)) return -double(log_of_clipped(p[label(b, r)]));
        double total = 0.0;
        const float* t = b.targets + r * b.width;
        for (std::size_t c = 0; c < b.width; ++c)
            if (t[c] != 0.0f) total -= double(t[c] * log_of_clipped(p[c]));
        return total;
    }
};

// d(mean loss)/d(p): -t / p; the clip's derivative is zero outside [eps, 1 - eps].
struct CrossEntropyGradient {
    LossBatch b;
    float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float t = target(b, i / b.width, i % b.width), p = b.predictions[i];
        const float clipped = clip_probability(p);
        out[i] = (t == 0.0f || clipped != p) ? 0.0f : -(1.0f / float(b.rows)) * t / clipped;
    }
};

// d(mean loss)/d(logits) when p = softmax(logits): (p - t) / rows.
struct SoftmaxCrossEntropyGradient {
    LossBatch b;
    float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        out[i] = (1.0f / float(b.rows)) * (b.predictions[i] - target(b, i / b.width, i % b.width));
    }
};

struct OutOfRangeLabel {
    LossBatch b;
    CTNN_HOST_DEVICE double operator()(std::size_t r) const {
        const float label = b.targets[r];
        return label >= 0.0f && label < float(b.width) ? 0.0 : 1.0;
    }
};

} // namespace detail

struct CategoricalCrossEntropy
    : FunctorLoss<CategoricalCrossEntropy, detail::CrossEntropyOfRow, detail::CrossEntropyGradient,
                  detail::SoftmaxCrossEntropyGradient> {
    static constexpr std::string_view name = "categorical cross-entropy";

    // Softmax + cross-entropy fold to the gradient p - t on the logits: one
    // pass, and no division by a probability that may have underflowed.
    template <class OutputLayer>
    static constexpr bool folds_into = std::is_same_v<OutputLayer, Softmax>;

    template <class Backend>
    static void check(const Backend& backend, const LossBatch& b) {
        if (b.target_width != b.width && b.target_width != 1)
            throw std::invalid_argument(
                "ctnn: categorical cross-entropy needs targets of width " +
                std::to_string(b.width) + " (one-hot) or 1 (class index), got width " +
                std::to_string(b.target_width));
        if (!detail::sparse(b) || b.targets_checked) return;
        if (backend.transform_sum(b.rows, detail::OutOfRangeLabel{b}) == 0.0) return;
        std::vector<float> labels(b.rows);
        backend.to_host(b.targets, labels.data(), b.rows);
        for (std::size_t r = 0; r < b.rows; ++r)
            if (!(labels[r] >= 0.0f && labels[r] < float(b.width))) {
                std::ostringstream label;
                label << labels[r];
                throw std::invalid_argument("ctnn: categorical cross-entropy: target row " + std::to_string(r) +
                                            " holds class index " + label.str() + ", outside 0.." +
                                            std::to_string(b.width - 1));
            }
    }
};

} // namespace ctnn
