// Element-wise activation layers. After a Dense or Conv2D layer (or its
// BatchNorm) they run in its epilogue; standing alone they are one pass.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

namespace detail {

template <class Op>
struct ApplyActivation {
    Op op;
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = op(x[i]); }
};

// dy *= op'(y): the activation's derivative, from its output.
template <class Op>
struct ActivationGradient {
    Op op;
    const float* y;
    float* dy;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { dy[i] = dy[i] * op.derivative(y[i]); }
};

} // namespace detail

template <class InputShape, class Backend, class Op>
class ActivationImpl {
    static constexpr std::size_t size = InputShape::size;

public:
    template <class Layer>
    explicit ActivationImpl(const Layer& layer) : op_(layer.op()) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        call.backend.for_each(call.batch * size, detail::ApplyActivation<Op>{op_, x, y});
        return y;
    }

    // A loss folded into this output activation already took its derivative.
    float* backward(const LayerCall<Backend>& call, const float*, const float* y, float* dy,
                    float* dx) {
        if (!dx) return nullptr;
        if (!call.folded_output)
            call.backend.for_each(call.batch * size, detail::ActivationGradient<Op>{op_, y, dy});
        return dy;
    }

    // In a fused group: the same map as an epilogue stage.
    epilogue::Activate<Op> stage(const LayerCall<Backend>&) const { return {op_}; }

private:
    Op op_;
};

// Shape-preserving layers without parameters share this part of the protocol.
struct ElementwiseLayer {
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
};

template <class Op>
struct ActivationLayer : ElementwiseLayer {
    using fusion_role = fusion::activation;
    template <class InputShape, class Backend>
    using impl = ActivationImpl<InputShape, Backend, Op>;
};

struct ReLU : ActivationLayer<ops::Relu> {
    static constexpr std::string_view type_name = "ReLU";
    ops::Relu op() const { return {}; }
};

struct LeakyReLU : ActivationLayer<ops::LeakyRelu> {
    static constexpr std::string_view type_name = "LeakyReLU";
    // Keras's default slope. It must be positive: the backward pass reads the
    // branch from the sign of the output.
    constexpr explicit LeakyReLU(float negative_slope = 0.3f) : alpha(negative_slope) {
        if (!(alpha > 0.0f)) throw std::invalid_argument("ctnn: LeakyReLU needs a positive slope");
    }
    float alpha;
    ops::LeakyRelu op() const { return {alpha}; }
};

struct Tanh : ActivationLayer<ops::Tanh> {
    static constexpr std::string_view type_name = "Tanh";
    ops::Tanh op() const { return {}; }
};

struct Sigmoid : ActivationLayer<ops::Sigmoid> {
    static constexpr std::string_view type_name = "Sigmoid";
    ops::Sigmoid op() const { return {}; }
};

} // namespace ctnn
