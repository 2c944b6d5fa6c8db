// Dense<Units>: y = activation(x W + b), W of shape (inputs, units) as in Keras.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

template <std::size_t Inputs, std::size_t Units, class Backend, class Activation>
class DenseImpl;

template <std::size_t Units>
struct Dense {
    Initializer kernel_initializer = Initializer::glorot_uniform;
    float l2 = 0.0f;  // kernel regulariser: adds l2 * sum(W^2) to the loss

    static constexpr std::string_view type_name = "Dense";
    static constexpr bool fuses_activation = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(Units > 0, "ctnn: Dense<0> has no outputs");
        static_assert(InputShape::rank == 1,
                      "ctnn: Dense needs a rank-1 input; insert ctnn::Flatten before it");
        return Shape<Units>{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = InputShape::size * Units + Units;
    template <class InputShape, class Backend, class Activation = ops::Identity>
    using impl = DenseImpl<InputShape::size, Units, Backend, Activation>;
};

template <std::size_t Inputs, std::size_t Units, class Backend, class Activation>
class DenseImpl {
public:
    static constexpr std::size_t param_count = Inputs * Units + Units;

    explicit DenseImpl(const Dense<Units>& config, Activation activation = {})
        : config_(config), activation_(activation) {}

    void initialize(float* params, Rng& rng) const {
        ctnn::initialize(config_.kernel_initializer, params, Inputs * Units, Inputs, Units, rng);
        ctnn::initialize(Initializer::zeros, params + Inputs * Units, Units, Inputs, Units, rng);
    }

    void reserve(std::size_t) {}

    const float* forward(const Context&, const float* params, const float* x, float* y,
                         std::size_t batch) {
        Backend::gemm(false, false, batch, Units, Inputs, 1.0f, x, Inputs, kernel(params), Units,
                      0.0f, y, Units);
        Backend::bias_activation(y, bias(params), batch, Units, activation_);
        return y;
    }

    float* backward(const Context&, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        if constexpr (!ops::is_identity<Activation>)
            Backend::activation_backward(y, dy, dy, batch * Units, activation_);
        float* kernel_grad = grads;
        Backend::gemm(true, false, Inputs, Units, batch, 1.0f, x, Inputs, dy, Units, 0.0f,
                      kernel_grad, Units);
        Backend::column_sums(dy, batch, Units, grads + Inputs * Units);
        if (config_.l2 != 0.0f)
            Backend::axpy(Inputs * Units, 2.0f * config_.l2, kernel(params), kernel_grad);
        if (dx)
            Backend::gemm(false, true, batch, Inputs, Units, 1.0f, dy, Units, kernel(params),
                          Units, 0.0f, dx, Inputs);
        return dx;
    }

    float penalty(const float* params) const {
        if (config_.l2 == 0.0f) return 0.0f;
        return config_.l2 * Backend::sum_of_squares(kernel(params), Inputs * Units);
    }

private:
    static const float* kernel(const float* params) { return params; }
    static const float* bias(const float* params) { return params + Inputs * Units; }

    Dense<Units> config_;
    Activation activation_;
};

} // namespace ctnn
