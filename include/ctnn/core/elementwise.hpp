// Element-wise activation functions as small function objects. Each gives its
// derivative in terms of its own output, so backward passes need only the
// activations already kept for the forward pass, and a fused Dense+activation
// stores nothing extra. The same objects run on every backend.
#pragma once

#include "ctnn/core/config.hpp"
#include "ctnn/core/fast_math.hpp"

namespace ctnn::ops {

struct Identity {
    CTNN_HOST_DEVICE float operator()(float x) const { return x; }
    CTNN_HOST_DEVICE float derivative(float) const { return 1.0f; }
};

struct Relu {
    CTNN_HOST_DEVICE float operator()(float x) const { return x > 0.0f ? x : 0.0f; }
    CTNN_HOST_DEVICE float derivative(float y) const { return y > 0.0f ? 1.0f : 0.0f; }
};

// Needs alpha > 0 so that the sign of the output tells the branch.
struct LeakyRelu {
    float alpha;
    CTNN_HOST_DEVICE float operator()(float x) const { return x > 0.0f ? x : alpha * x; }
    CTNN_HOST_DEVICE float derivative(float y) const { return y > 0.0f ? 1.0f : alpha; }
};

struct Tanh {
    CTNN_HOST_DEVICE float operator()(float x) const { return fast::tanh(x); }
    CTNN_HOST_DEVICE float derivative(float y) const { return 1.0f - y * y; }
};

struct Sigmoid {
    CTNN_HOST_DEVICE float operator()(float x) const { return fast::sigmoid(x); }
    CTNN_HOST_DEVICE float derivative(float y) const { return y * (1.0f - y); }
};

template <class Op>
inline constexpr bool is_identity = false;
template <>
inline constexpr bool is_identity<Identity> = true;

} // namespace ctnn::ops
