// SimpleRNN<Units, ReturnSequences = false>: the plain (Elman) recurrent
// layer over a sequence Shape<T, F>, Keras's default form:
//
//   h_t = tanh(x W + h_{t-1} U + b)
//
// Input kernel Glorot-uniform, recurrent kernel orthogonal, bias zero.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/config.hpp"
#include "ctnn/core/fast_math.hpp"
#include "ctnn/core/initializers.hpp"
#include "ctnn/layers/recurrent.hpp"

namespace ctnn {

namespace detail {

template <std::size_t Units>
struct SimpleRnnCell {
    static constexpr std::string_view type_name = "SimpleRNN";
    static constexpr Initializer bias_initializer = Initializer::zeros;
    static constexpr std::size_t gates = 1, biases = 1;
    static constexpr bool carry = false;
    static constexpr bool recurrent_apart = false;
    static constexpr bool direct_path = false;

    CTNN_HOST_DEVICE static void forward(float* __restrict a, const float*, const float*, const float*,
                        float* __restrict h, const float*, float*) {
        for (std::size_t j = 0; j < Units; ++j) h[j] = a[j] = fast::tanh(a[j]);
    }

    CTNN_HOST_DEVICE static void backward(const float* __restrict h, const float*, const float*, const float*,
                         const float*, float* __restrict dh, float*, float* __restrict da,
                         float*) {
        for (std::size_t j = 0; j < Units; ++j) da[j] = dh[j] * (1.0f - h[j] * h[j]);
    }
};

} // namespace detail

template <std::size_t Units, bool ReturnSequences = false, bool ReturnState = false>
using SimpleRNN = RecurrentLayer<detail::SimpleRnnCell, Units, ReturnSequences, ReturnState>;

} // namespace ctnn
