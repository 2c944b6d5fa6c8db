// GRU<Units, ReturnSequences = false>: gated recurrent unit over a sequence
// Shape<T, F>, in Keras's default form (reset_after=True, the one cuDNN
// runs), which applies the reset gate after the recurrent product and so
// has two biases, one for the input and one for the recurrent projection:
//
//   z = sigmoid(x W_z + b_z + h U_z + r_z)     (r_ is the recurrent bias)
//   r = sigmoid(x W_r + b_r + h U_r + r_r)
//   n = tanh(x W_h + b_h + r * (h U_h + r_h))
//   h_t = z h_{t-1} + (1 - z) n
//
// Gate order z, r, h as Keras's; the bias is two rows of 3 * Units (input,
// then recurrent), both starting at zero. Input kernel Glorot-uniform,
// recurrent kernel orthogonal. (Keras's reset_after=False form, which
// multiplies r into h before U_h, is not provided.)
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
struct GruCell {
    static constexpr std::string_view type_name = "GRU";
    static constexpr Initializer bias_initializer = Initializer::zeros;
    static constexpr std::size_t gates = 3, biases = 2;
    static constexpr bool carry = false;
    static constexpr bool recurrent_apart = true;  // r multiplies h U_h + r_h alone
    static constexpr bool direct_path = true;      // h_t depends on h_{t-1} through z h_{t-1}

    CTNN_HOST_DEVICE static void forward(float* __restrict a, float* __restrict rec,
                        const float* __restrict rec_bias, const float* __restrict h_prev,
                        float* __restrict h, const float*, float*) {
        for (std::size_t j = 0; j < Units; ++j) {
            const float z = fast::sigmoid(a[j] + rec[j] + rec_bias[j]);
            const float r = fast::sigmoid(a[Units + j] + rec[Units + j] + rec_bias[Units + j]);
            const float rec_h = rec[2 * Units + j] + rec_bias[2 * Units + j];
            const float n = fast::tanh(a[2 * Units + j] + r * rec_h);
            h[j] = z * h_prev[j] + (1.0f - z) * n;
            a[j] = z;
            a[Units + j] = r;
            a[2 * Units + j] = n;
            rec[2 * Units + j] = rec_h;  // the backward pass needs it with its bias
        }
    }

    CTNN_HOST_DEVICE static void backward(const float* __restrict a, const float* __restrict rec,
                         const float* __restrict h_prev, const float*, const float*,
                         float* __restrict dh, float*, float* __restrict da,
                         float* __restrict dr) {
        for (std::size_t j = 0; j < Units; ++j) {
            const float z = a[j], r = a[Units + j], n = a[2 * Units + j];
            const float d_n = dh[j] * (1.0f - z) * (1.0f - n * n);
            const float d_z = dh[j] * (h_prev[j] - n) * z * (1.0f - z);
            const float d_r = d_n * rec[2 * Units + j] * r * (1.0f - r);
            da[j] = dr[j] = d_z;
            da[Units + j] = dr[Units + j] = d_r;
            da[2 * Units + j] = d_n;
            dr[2 * Units + j] = d_n * r;
            dh[j] *= z;
        }
    }
};

} // namespace detail

template <std::size_t Units, bool ReturnSequences = false, bool ReturnState = false>
using GRU = RecurrentLayer<detail::GruCell, Units, ReturnSequences, ReturnState>;

} // namespace ctnn
