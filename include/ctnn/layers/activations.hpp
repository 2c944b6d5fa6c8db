// Element-wise activation layers. After a Dense (or Conv2D) layer they are
// fused into its output pass; standing alone they run as their own layer.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

template <class InputShape, class Backend, class Op>
class ActivationImpl : public ParameterFreeImpl {
public:
    explicit ActivationImpl(const auto& layer) : op_(layer.op()) {}


    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        Backend::activation(x, y, batch * InputShape::size, op_);
        return y;
    }

    float* backward(const Context&, const float*, float*, const float*, const float* y,
                    float* dy, float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        Backend::activation_backward(y, dy, dy, batch * InputShape::size, op_);
        return dy;
    }


private:
    Op op_;
};

// Shape-preserving, parameter-free layers share this part of the protocol.
template <class Derived>
struct ElementwiseLayer {
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
};

template <class Derived, class Op>
struct ActivationLayerBase : ElementwiseLayer<Derived> {
    static constexpr bool is_activation = true;
    template <class InputShape, class Backend>
    using impl = ActivationImpl<InputShape, Backend, Op>;
};

struct ReLU : ActivationLayerBase<ReLU, ops::Relu> {
    static constexpr std::string_view type_name = "ReLU";
    ops::Relu op() const { return {}; }
};

struct LeakyReLU : ActivationLayerBase<LeakyReLU, ops::LeakyRelu> {
    static constexpr std::string_view type_name = "LeakyReLU";
    // Keras's default slope. It must be positive: the backward pass reads the
    // branch from the sign of the output.
    explicit LeakyReLU(float negative_slope = 0.3f) : alpha(negative_slope) {
        if (!(alpha > 0.0f)) throw std::invalid_argument("ctnn: LeakyReLU needs a positive slope");
    }
    float alpha;
    ops::LeakyRelu op() const { return {alpha}; }
};

struct Tanh : ActivationLayerBase<Tanh, ops::Tanh> {
    static constexpr std::string_view type_name = "Tanh";
    ops::Tanh op() const { return {}; }
};

struct Sigmoid : ActivationLayerBase<Sigmoid, ops::Sigmoid> {
    static constexpr std::string_view type_name = "Sigmoid";
    ops::Sigmoid op() const { return {}; }
};

} // namespace ctnn
