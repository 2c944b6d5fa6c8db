// What LSTM, GRU and SimpleRNN share: a layer over a sequence Shape<T, F>
// that runs a cell T times and returns the last state, Shape<Units>, or every
// state, Shape<T, Units>. A cell (lstm.hpp, ...) supplies only its gate math.
//
// Parameters, in Keras's order and layouts (so Keras weights load as they
// are): the input kernel (F, gates * Units), the recurrent kernel
// (Units, gates * Units), then the bias (gates * Units; GRU: two rows).
//
// Forward: the input projections of all T steps are ONE GEMM over batch * T
// rows, made before the recurrence; each step then adds h_{t-1} times the
// recurrent kernel (one GEMM) and runs the cell's element-wise math in one
// pass. Everything is kept time-major, (T, batch, .), so that a step's rows
// are contiguous and backpropagation through time ends with one GEMM per
// kernel over all steps. Workspaces are sized in reserve(); steps allocate
// nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

namespace detail {

// Steps and features of a sequence shape; rank-1 shapes (an error the
// layers report) read as one step, so that nothing else fails to compile.
template <class InputShape>
struct SequenceShape {
    static constexpr std::size_t features = InputShape::dims[InputShape::rank - 1];
    static constexpr std::size_t steps = InputShape::size / (features > 0 ? features : 1);
};

// The output shape of a recurrent layer.
template <std::size_t Steps, std::size_t Units, bool ReturnSequences>
using recurrent_output = std::conditional_t<ReturnSequences, Shape<Steps, Units>, Shape<Units>>;

template <class Cell, std::size_t Units, class InputShape>
inline constexpr std::size_t recurrent_param_count =
    Cell::gates * Units * (SequenceShape<InputShape>::features + Units + Cell::biases);

// Keras's orthogonal initializer for a rows x cols matrix with rows <= cols:
// rows orthonormal, drawn uniformly (Haar). Gram-Schmidt on Gaussian vectors
// is QR with R's diagonal made positive, the sign fix Keras applies.
inline void orthogonal(float* values, std::size_t rows, std::size_t cols, Rng& rng) {
    std::vector<double> basis(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) {
        double* v = basis.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c) v[c] = rng.normal();
        // Twice, so that rounding leaves no component along earlier rows.
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t q = 0; q < r; ++q) {
                const double* u = basis.data() + q * cols;
                double dot = 0.0;
                for (std::size_t c = 0; c < cols; ++c) dot += u[c] * v[c];
                for (std::size_t c = 0; c < cols; ++c) v[c] -= dot * u[c];
            }
        }
        double norm = 0.0;
        for (std::size_t c = 0; c < cols; ++c) norm += v[c] * v[c];
        norm = std::sqrt(norm);
        for (std::size_t c = 0; c < cols; ++c) v[c] /= norm;
    }
    std::copy(basis.begin(), basis.end(), values);
}

// The time-major copy of batch-major rows: to[t][b] = from[b][t], `width`
// floats each; `back` does the reverse.
inline void to_time_major(const float* from, float* to, std::size_t batch, std::size_t steps,
                          std::size_t width, bool back = false) {
    const std::size_t grain = parallel_grain / std::max<std::size_t>(steps * width, 1) + 1;
    parallel_for(batch, grain, [=](std::size_t first, std::size_t last) {
        for (std::size_t b = first; b < last; ++b)
            for (std::size_t t = 0; t < steps; ++t) {
                const std::size_t batch_major = (b * steps + t) * width;
                const std::size_t time_major = (t * batch + b) * width;
                if (back)
                    std::copy_n(from + time_major, width, to + batch_major);
                else
                    std::copy_n(from + batch_major, width, to + time_major);
            }
    });
}

} // namespace detail

// A cell (LstmCell, GruCell, SimpleRnnCell) declares
//
//   gates            gate blocks of Units values (LSTM 4, GRU 3, SimpleRNN 1)
//   biases           bias rows (GRU 2: input and recurrent)
//   carry            whether it carries a cell state c besides h (LSTM)
//   recurrent_apart  whether it needs h_{t-1} U apart from the input
//                    projection (GRU's reset gate multiplies it alone)
//   direct_path      whether h_t depends on h_{t-1} other than through U
//
// and three static functions over one sample's row at one step:
//
//   forward(gates, recurrent, recurrent_bias, h_prev, h, c_prev, c)
//     gates holds the step's pre-activations (input projection, input bias
//     and, unless the cell keeps it apart, the recurrent projection) and
//     receives the gate values the backward pass needs; recurrent is the
//     recurrent projection of cells that keep it apart (GRU), which add the
//     recurrent bias themselves; c is the carried cell state (LSTM).
//   backward(gates, recurrent, h_prev, c_prev, c, dh, dc, d_gates, d_recurrent)
//     dh holds dL/dh_t and receives the part of dL/dh_{t-1} that does not
//     pass through the recurrent kernel (cells with direct_path); dc holds
//     dL/dc_t and receives dL/dc_{t-1}; d_gates and d_recurrent receive the
//     gradients of the pre-activations (the same array unless kept apart).
//   initialize_bias(bias, layer_config)
//
// Pointers are function parameters marked __restrict: GCC 12 vectorises the
// loops over them, but not over the same pointers read from a struct.

template <class Layer, class InputShape, class Backend>
class RecurrentImpl {
    using cell = typename Layer::cell;
    static constexpr std::size_t steps = detail::SequenceShape<InputShape>::steps;
    static constexpr std::size_t features = detail::SequenceShape<InputShape>::features;
    static constexpr std::size_t units = Layer::units;
    static constexpr std::size_t width = cell::gates * units;  // gate values per sample
    static constexpr std::size_t kernel_size = features * width;
    static constexpr std::size_t recurrent_size = units * width;
    static constexpr bool apart = cell::recurrent_apart;

public:
    static constexpr std::size_t param_count = kernel_size + recurrent_size + cell::biases * width;

    explicit RecurrentImpl(const Layer& config) : config_(config) {}

    void initialize(float* params, Rng& rng) const {
        ctnn::initialize(config_.kernel_initializer, params, kernel_size, features, width, rng);
        detail::orthogonal(params + kernel_size, units, width, rng);
        float* bias = params + kernel_size + recurrent_size;
        std::fill_n(bias, cell::biases * width, 0.0f);
        cell::initialize_bias(bias, config_);
    }

    void reserve(std::size_t max_batch) {
        const std::size_t rows = steps * max_batch;
        inputs_.resize(rows * features);
        gates_.resize(rows * width);
        d_gates_.resize(rows * width);
        if constexpr (apart) {
            recurrent_.resize(rows * width);
            d_recurrent_.resize(rows * width);
        }
        states_.resize((steps + 1) * max_batch * units);
        if constexpr (cell::carry) carries_.resize((steps + 1) * max_batch * units);
        dh_.resize(max_batch * units);
        dc_.resize(max_batch * units);
    }

    const float* forward(const Context&, const float* params, const float* x, float* y,
                         std::size_t batch) {
        detail::to_time_major(x, inputs_.data(), batch, steps, features);
        Backend::gemm(false, false, steps * batch, width, features, 1.0f, inputs_.data(), features,
                      kernel(params), width, 0.0f, gates_.data(), width);
        Backend::bias_activation(gates_.data(), bias(params), steps * batch, width, ops::Identity{});
        std::fill_n(states_.data(), batch * units, 0.0f);
        if constexpr (cell::carry) std::fill_n(carries_.data(), batch * units, 0.0f);

        for (std::size_t t = 0; t < steps; ++t) {
            float* gates = gates_.data() + t * batch * width;
            const float* h_prev = states_.data() + t * batch * units;
            float* recurrent = nullptr;
            if constexpr (apart) {
                recurrent = recurrent_.data() + t * batch * width;
                if (t == 0)
                    std::fill_n(recurrent, batch * width, 0.0f);
                else
                    Backend::gemm(false, false, batch, width, units, 1.0f, h_prev, units,
                                  recurrent_kernel(params), width, 0.0f, recurrent, width);
            } else if (t > 0) {  // h_0 = 0 adds nothing
                Backend::gemm(false, false, batch, width, units, 1.0f, h_prev, units,
                              recurrent_kernel(params), width, 1.0f, gates, width);
            }
            float* h = states_.data() + (t + 1) * batch * units;
            const float* c_prev = cell::carry ? carries_.data() + t * batch * units : nullptr;
            float* c = cell::carry ? carries_.data() + (t + 1) * batch * units : nullptr;
            const float* second_bias = recurrent_bias(params);
            run_rows(batch, [=](std::size_t b) {
                cell::forward(gates + b * width, recurrent ? recurrent + b * width : nullptr,
                              second_bias, h_prev + b * units, h + b * units,
                              c_prev ? c_prev + b * units : nullptr, c ? c + b * units : nullptr);
            });
        }

        if constexpr (Layer::return_sequences)
            detail::to_time_major(states_.data() + batch * units, y, batch, steps, units, true);
        else
            std::copy_n(states_.data() + steps * batch * units, batch * units, y);
        return y;
    }

    float* backward(const Context&, const float* params, float* grads, const float*, const float*,
                    float* dy, float* dx, std::size_t batch) {
        float* dh = dh_.data();
        float* dc = dc_.data();
        std::fill_n(dh, batch * units, 0.0f);
        std::fill_n(dc, batch * units, 0.0f);
        for (std::size_t t = steps; t-- > 0;) {
            // The output's gradient at step t joins the one from step t + 1.
            if constexpr (Layer::return_sequences) {
                for (std::size_t b = 0; b < batch; ++b) {
                    const float* from = dy + (b * steps + t) * units;
                    float* to = dh + b * units;
                    for (std::size_t j = 0; j < units; ++j) to[j] += from[j];
                }
            } else if (t == steps - 1) {
                std::copy_n(dy, batch * units, dh);
            }
            const float* gates = gates_.data() + t * batch * width;
            const float* recurrent = apart ? recurrent_.data() + t * batch * width : nullptr;
            const float* h_prev = states_.data() + t * batch * units;
            const float* c_prev = cell::carry ? carries_.data() + t * batch * units : nullptr;
            const float* c = cell::carry ? carries_.data() + (t + 1) * batch * units : nullptr;
            float* d_gates = d_gates_.data() + t * batch * width;
            float* d_recurrent = apart ? d_recurrent_.data() + t * batch * width : d_gates;
            run_rows(batch, [=](std::size_t b) {
                cell::backward(gates + b * width, recurrent ? recurrent + b * width : nullptr,
                               h_prev + b * units, c_prev ? c_prev + b * units : nullptr,
                               c ? c + b * units : nullptr, dh + b * units, dc + b * units,
                               d_gates + b * width, d_recurrent + b * width);
            });
            // dL/dh_{t-1}: through the recurrent kernel, plus the cell's direct path.
            if (t > 0)
                Backend::gemm(false, true, batch, units, width, 1.0f, d_recurrent, width,
                              recurrent_kernel(params), width, cell::direct_path ? 1.0f : 0.0f, dh,
                              units);
        }

        // The kernels' gradients over all steps at once; h_0 = 0 adds nothing.
        const float* d_recurrent = apart ? d_recurrent_.data() : d_gates_.data();
        Backend::gemm(true, false, features, width, steps * batch, 1.0f, inputs_.data(), features,
                      d_gates_.data(), width, 0.0f, grads, width);
        float* recurrent_grad = grads + kernel_size;
        if (steps > 1)
            Backend::gemm(true, false, units, width, (steps - 1) * batch, 1.0f,
                          states_.data() + batch * units, units, d_recurrent + batch * width, width,
                          0.0f, recurrent_grad, width);
        else
            std::fill_n(recurrent_grad, recurrent_size, 0.0f);
        Backend::column_sums(d_gates_.data(), steps * batch, width, grads + kernel_size + recurrent_size);
        if constexpr (apart)
            Backend::column_sums(d_recurrent, steps * batch, width,
                                 grads + kernel_size + recurrent_size + width);
        if (!dx) return nullptr;
        // The time-major input copy is no longer needed: it receives dL/dx.
        Backend::gemm(false, true, steps * batch, features, width, 1.0f, d_gates_.data(), width,
                      kernel(params), width, 0.0f, inputs_.data(), features);
        detail::to_time_major(inputs_.data(), dx, batch, steps, features, true);
        return dx;
    }

    float penalty(const float*) const { return 0.0f; }

private:
    static const float* kernel(const float* params) { return params; }
    static const float* recurrent_kernel(const float* params) { return params + kernel_size; }
    static const float* bias(const float* params) { return params + kernel_size + recurrent_size; }
    static const float* recurrent_bias(const float* params) {
        return apart ? bias(params) + width : nullptr;
    }

    // One pass of a cell over a step's batch rows, split between threads.
    template <class Row>
    static void run_rows(std::size_t batch, Row row) {
        // A row costs several exponentials per value: finer grain than a copy.
        const std::size_t grain = parallel_grain / (8 * std::max<std::size_t>(width, 1)) + 1;
        parallel_for(batch, grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t b = first; b < last; ++b) row(b);
        });
    }

    Layer config_;
    typename Backend::template buffer<float> inputs_;       // x, time-major; dL/dx after backward
    typename Backend::template buffer<float> gates_;        // (T, batch, width)
    typename Backend::template buffer<float> d_gates_;
    typename Backend::template buffer<float> recurrent_;    // cells with recurrent_apart
    typename Backend::template buffer<float> d_recurrent_;
    typename Backend::template buffer<float> states_;       // h_0 .. h_T, (T + 1, batch, units)
    typename Backend::template buffer<float> carries_;      // c_0 .. c_T (LSTM)
    typename Backend::template buffer<float> dh_;
    typename Backend::template buffer<float> dc_;
};

} // namespace ctnn
