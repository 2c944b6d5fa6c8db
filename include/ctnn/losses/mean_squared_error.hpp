// Mean squared error over all values.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/config.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn {

namespace detail {

struct SquaredErrorOf {
    LossBatch b;
    static std::size_t count(const LossBatch& b) { return b.rows * b.width; }
    CTNN_HOST_DEVICE double operator()(std::size_t i) const {
        const double d = double(b.predictions[i]) - b.targets[i];
        return d * d;
    }
};

struct SquaredErrorGradient {
    LossBatch b;
    float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        out[i] = (2.0f / float(b.rows * b.width)) * (b.predictions[i] - b.targets[i]);
    }
};

} // namespace detail

struct MeanSquaredError
    : FunctorLoss<MeanSquaredError, detail::SquaredErrorOf, detail::SquaredErrorGradient> {
    static constexpr std::string_view name = "mean squared error";

    template <class Backend>
    static void check(const Backend&, const LossBatch& b) {
        require_target_per_output(b, name);
    }
};

} // namespace ctnn
