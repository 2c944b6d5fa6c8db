// SimpleRNN<Units, ReturnSequences = false>: the plain (Elman) recurrent
// layer over a sequence Shape<T, F>, Keras's default form:
//
//   h_t = tanh(x W + h_{t-1} U + b)
//
// Input kernel Glorot-uniform, recurrent kernel orthogonal, bias zero.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/fast_math.hpp"
#include "ctnn/layers/initializers.hpp"
#include "ctnn/layers/recurrent.hpp"

namespace ctnn {

namespace detail {

template <std::size_t Units>
struct SimpleRnnCell {
    static constexpr std::size_t gates = 1, biases = 1;
    static constexpr bool carry = false;
    static constexpr bool recurrent_apart = false;
    static constexpr bool direct_path = false;

    static void initialize_bias(float*, const auto&) {}

    static void forward(float* __restrict a, const float*, const float*, const float*,
                        float* __restrict h, const float*, float*) {
        for (std::size_t j = 0; j < Units; ++j) h[j] = a[j] = fast::tanh(a[j]);
    }

    static void backward(const float* __restrict h, const float*, const float*, const float*,
                         const float*, float* __restrict dh, float*, float* __restrict da,
                         float*) {
        for (std::size_t j = 0; j < Units; ++j) da[j] = dh[j] * (1.0f - h[j] * h[j]);
    }
};

} // namespace detail

template <std::size_t Units, bool ReturnSequences = false>
struct SimpleRNN {
    Initializer kernel_initializer = Initializer::glorot_uniform;

    static constexpr std::string_view type_name = "SimpleRNN";
    static constexpr std::size_t units = Units;
    static constexpr bool return_sequences = ReturnSequences;
    using cell = detail::SimpleRnnCell<Units>;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(Units > 0, "ctnn: SimpleRNN<0> has no units");
        static_assert(InputShape::rank == 2,
                      "ctnn: SimpleRNN needs a sequence input Shape<steps, features>, e.g. "
                      "Input<7, 12>; put RepeatVector<steps> before it to feed it a vector");
        return detail::recurrent_output<detail::SequenceShape<InputShape>::steps, Units,
                                        ReturnSequences>{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = detail::recurrent_param_count<cell, Units, InputShape>;
    template <class InputShape, class Backend>
    using impl = RecurrentImpl<SimpleRNN, InputShape, Backend>;
};

} // namespace ctnn
