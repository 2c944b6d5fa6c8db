// LSTM<Units, ReturnSequences = false>: long short-term memory over a
// sequence Shape<T, F>, with Keras's gate math, order and defaults:
//
//   i = sigmoid(x W_i + h U_i + b_i)     f = sigmoid(x W_f + h U_f + b_f)
//   g = tanh(x W_c + h U_c + b_c)        o = sigmoid(x W_o + h U_o + b_o)
//   c_t = f c_{t-1} + i g                h_t = o tanh(c_t)
//
// The kernels and the bias hold the gates in Keras's order i, f, c, o. The
// input kernel starts Glorot-uniform, the recurrent kernel orthogonal, the
// bias at zero except the forget gate's, at 1 (Keras's unit_forget_bias).
// Output: h_T as Shape<Units>, or every h_t as Shape<T, Units>.
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
struct LstmCell {
    static constexpr std::string_view type_name = "LSTM";
    static constexpr Initializer bias_initializer = Initializer::unit_forget_bias;
    static constexpr std::size_t gates = 4, biases = 1;
    static constexpr bool carry = true;            // the cell state c
    static constexpr bool recurrent_apart = false;
    static constexpr bool direct_path = false;

    CTNN_HOST_DEVICE static void forward(float* __restrict a, const float*, const float*, const float*,
                        float* __restrict h, const float* __restrict c_prev, float* __restrict c) {
        for (std::size_t j = 0; j < Units; ++j) {
            const float i = fast::sigmoid(a[j]), f = fast::sigmoid(a[Units + j]);
            const float g = fast::tanh(a[2 * Units + j]), o = fast::sigmoid(a[3 * Units + j]);
            const float cell = f * c_prev[j] + i * g;
            c[j] = cell;
            h[j] = o * fast::tanh(cell);
            a[j] = i;
            a[Units + j] = f;
            a[2 * Units + j] = g;
            a[3 * Units + j] = o;
        }
    }

    CTNN_HOST_DEVICE static void backward(const float* __restrict a, const float*, const float*,
                         const float* __restrict c_prev, const float* __restrict c,
                         float* __restrict dh, float* __restrict dc, float* __restrict da, float*) {
        for (std::size_t j = 0; j < Units; ++j) {
            const float i = a[j], f = a[Units + j], g = a[2 * Units + j], o = a[3 * Units + j];
            const float tanh_c = fast::tanh(c[j]);
            const float d_cell = dc[j] + dh[j] * o * (1.0f - tanh_c * tanh_c);
            da[j] = d_cell * g * i * (1.0f - i);
            da[Units + j] = d_cell * c_prev[j] * f * (1.0f - f);
            da[2 * Units + j] = d_cell * i * (1.0f - g * g);
            da[3 * Units + j] = dh[j] * tanh_c * o * (1.0f - o);
            dc[j] = d_cell * f;
        }
    }
};

} // namespace detail

template <std::size_t Units, bool ReturnSequences = false, bool ReturnState = false>
using LSTM = RecurrentLayer<detail::LstmCell, Units, ReturnSequences, ReturnState>;

} // namespace ctnn
