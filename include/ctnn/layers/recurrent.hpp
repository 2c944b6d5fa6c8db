// RecurrentLayer<Cell, Units, ReturnSequences>: a layer over a sequence
// Shape<T, F> that runs a cell (lstm.hpp, gru.hpp, simple_rnn.hpp) T times
// and returns the last state, Shape<Units>, or every state, Shape<T, Units>.
// LSTM, GRU and SimpleRNN are its three spellings; a cell supplies only its
// gate math and its name.
//
// Initial and final states, as Keras's initial_state and return_state: a
// layer whose input is Shapes<Shape<T, F>, Shape<Units>> (LSTM: and a second
// Shape<Units>, h then c) starts from those states instead of zeros, and one
// declared with ReturnState gives Shapes<its output, Shape<Units> (h_T)>
// (LSTM: and c_T). An encoder that hands its states to a decoder:
//
//   LSTM<128, false, true>,                               // out, h, c
//   Parallel<RepeatVector<3>, Flatten, Flatten>,          // the output repeated; h, c as they are
//   LSTM<128, true>,                                      // starts from h, c
//
// Parameters, in Keras's order and shapes (so Keras weights load as they
// are): kernel (F, gates * Units), recurrent_kernel (Units, gates * Units),
// bias (gates * Units; GRU: two rows, input and recurrent). Keras's
// initialisers: Glorot-uniform kernel, orthogonal recurrent kernel, the
// cell's bias (an LSTM's forget gate at 1).
//
// Forward: the input projections of all T steps are ONE GEMM over batch * T
// rows, made before the recurrence; each step then adds h_{t-1} times the
// recurrent kernel (one GEMM) and runs the cell's element-wise math in one
// pass. Everything is kept time-major, (T, batch, .), so that a step's rows
// are contiguous and backpropagation through time ends with one GEMM per
// kernel over all steps. Workspaces are sized in reserve(); steps allocate
// nothing.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/core/row_parts.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

namespace detail {

// Steps and features of a sequence shape; rank-1 shapes (an error the
// layers report) read as one step, so that nothing else fails to compile.
template <class InputShape>
struct SequenceShape {
    static constexpr std::size_t features = InputShape::dims[InputShape::rank - 1];
    static constexpr std::size_t steps = InputShape::size / (features > 0 ? features : 1);
};

// What a recurrent layer reads: a sequence, and the initial states (h, and
// c for a cell that carries one) where its input is Shapes<sequence, h, c>.
// `valid` says whether the input is one of those; a rank-1 shape (an error
// the layers report) reads as one step, so that nothing else fails to compile.
template <class InputShape, bool Carry, std::size_t Units>
struct RecurrentInput {
    using sequence = InputShape;
    static constexpr bool initial_state = false;
    static constexpr bool valid = InputShape::rank == 2;
};
template <class Sequence, class... States, bool Carry, std::size_t Units>
struct RecurrentInput<Shapes<Sequence, States...>, Carry, Units> {
    using sequence = Sequence;
    static constexpr bool initial_state = true;
    static constexpr bool valid =
        Sequence::rank == 2 && sizeof...(States) == (Carry ? 2 : 1) && (std::is_same_v<States, Shape<Units>> && ...);
};

// The time-major copy of batch-major rows, one sample per index:
// to[t][b] = from[b][t], `width` floats each, a sample's rows
// `sample_stride` floats apart in the batch-major array (more than steps *
// width where its row holds states too); `back` does the reverse.
struct TimeMajor {
    const float* from;
    float* to;
    std::size_t batch, steps, width, sample_stride;
    bool back;
    CTNN_HOST_DEVICE void operator()(std::size_t b) const {
        for (std::size_t t = 0; t < steps; ++t) {
            const std::size_t batch_major = b * sample_stride + t * width;
            const std::size_t time_major = (t * batch + b) * width;
            const float* in = from + (back ? time_major : batch_major);
            float* out = to + (back ? batch_major : time_major);
            for (std::size_t j = 0; j < width; ++j) out[j] = in[j];
        }
    }
};

// Every row set to the bias: the gates' values before the input projection
// adds to them.
template <std::size_t Width>
struct BiasRows {
    const float* bias;
    float* rows;
    CTNN_HOST_DEVICE void operator()(std::size_t r) const {
        for (std::size_t j = 0; j < Width; ++j) rows[r * Width + j] = bias[j];
    }
};

// dh[b] += dy[b][t]: a sequence output's gradient at step t joins the one
// that came back from step t + 1 (a sample's dy `sample_stride` floats apart).
struct AddStepGradient {
    const float* dy;
    float* dh;
    std::size_t sample_stride, t, units;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / units, j = i % units;
        dh[i] += dy[b * sample_stride + t * units + j];
    }
};

// d[i] = the sum over the steps of d[t * n + i], added in step order.
struct SumSteps {
    float* d;
    std::size_t n, steps;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        float sum = d[i];
        for (std::size_t t = 1; t < steps; ++t) sum += d[t * n + i];
        d[i] = sum;
    }
};

// One pass of a cell over a step's batch rows (see the cell protocol below).
template <class Cell, std::size_t Width, std::size_t Units>
struct CellForward {
    float* gates;
    float* recurrent;
    const float* recurrent_bias;
    const float* h_prev;
    float* h;
    const float* c_prev;
    float* c;
    CTNN_HOST_DEVICE void operator()(std::size_t b) const {
        Cell::forward(gates + b * Width, recurrent ? recurrent + b * Width : nullptr, recurrent_bias,
                      h_prev + b * Units, h + b * Units, c_prev ? c_prev + b * Units : nullptr,
                      c ? c + b * Units : nullptr);
    }
};

template <class Cell, std::size_t Width, std::size_t Units>
struct CellBackward {
    const float* gates;
    const float* recurrent;
    const float* h_prev;
    const float* c_prev;
    const float* c;
    float* dh;
    float* dc;
    float* d_gates;
    float* d_recurrent;
    CTNN_HOST_DEVICE void operator()(std::size_t b) const {
        Cell::backward(gates + b * Width, recurrent ? recurrent + b * Width : nullptr, h_prev + b * Units,
                       c_prev ? c_prev + b * Units : nullptr, c ? c + b * Units : nullptr,
                       dh + b * Units, dc + b * Units, d_gates + b * Width, d_recurrent + b * Width);
    }
};

} // namespace detail

// A cell (LstmCell, GruCell, SimpleRnnCell) declares
//
//   type_name        the layer's name ("LSTM")
//   gates            gate blocks of Units values (LSTM 4, GRU 3, SimpleRNN 1)
//   biases           bias rows (GRU 2: input and recurrent)
//   bias_initializer Keras's default for the bias
//   carry            whether it carries a cell state c besides h (LSTM)
//   recurrent_apart  whether it needs h_{t-1} U apart from the input
//                    projection (GRU's reset gate multiplies it alone)
//   direct_path      whether h_t depends on h_{t-1} other than through U
//
// and two static functions over one sample's row at one step:
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
//
// Pointers are function parameters marked __restrict: GCC 12 vectorises the
// loops over them, but not over the same pointers read from a struct.

template <class Layer, class InputShape, class Backend, bool Repeated = false>
class RecurrentImpl;

template <template <std::size_t> class Cell, std::size_t Units, bool ReturnSequences = false, bool ReturnState = false>
struct RecurrentLayer {
    using cell = Cell<Units>;
    static constexpr std::size_t units = Units;
    static constexpr bool return_sequences = ReturnSequences;
    static constexpr bool return_state = ReturnState;
    // A sequence, or a sequence and the initial states (Shapes<...>).
    static constexpr bool takes_several_inputs = true;
    template <class InputShape>
    using input = detail::RecurrentInput<InputShape, cell::carry, Units>;

    Initializer kernel_initializer = Initializer::glorot_uniform;
    Initializer recurrent_initializer = Initializer::orthogonal;
    Initializer bias_initializer = cell::bias_initializer;

    static constexpr std::string_view type_name = cell::type_name;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(Units > 0, "ctnn: a recurrent layer (LSTM, GRU, SimpleRNN) needs at least one unit");
        static_assert(input<InputShape>::sequence::rank == 2,
                      "ctnn: a recurrent layer (LSTM, GRU, SimpleRNN) needs a sequence input "
                      "Shape<steps, features>, e.g. Input<7, 12>; put RepeatVector<steps> before it "
                      "to feed it a vector");
        static_assert(!is_shapes<InputShape> || input<InputShape>::valid,
                      "ctnn: a recurrent layer takes its initial state as Shapes<Shape<steps, features>, "
                      "Shape<units>> (LSTM: Shapes<Shape<steps, features>, Shape<units>, Shape<units>>, h "
                      "then c)");
        using sequence = typename input<InputShape>::sequence;
        constexpr std::size_t steps = detail::SequenceShape<sequence>::steps;
        using output = std::conditional_t<ReturnSequences, Shape<steps, Units>, Shape<Units>>;
        if constexpr (!ReturnState)
            return output{};
        else if constexpr (cell::carry)
            return Shapes<output, Shape<Units>, Shape<Units>>{};
        else
            return Shapes<output, Shape<Units>>{};
    }
    template <class InputShape>
    constexpr auto parameters() const {
        constexpr std::size_t width = cell::gates * Units;
        const Dims bias = cell::biases == 1 ? dims(width) : dims(cell::biases, width);
        return std::array{
            ParameterArray{"kernel", dims(detail::SequenceShape<typename input<InputShape>::sequence>::features, width),
                           Layout::matrix, kernel_initializer},
            ParameterArray{"recurrent_kernel", dims(Units, width), Layout::matrix, recurrent_initializer},
            ParameterArray{"bias", bias, Layout::vector, bias_initializer}};
    }
    template <class InputShape, class Backend>
    using impl = RecurrentImpl<RecurrentLayer, InputShape, Backend>;
    // After RepeatVector (its fused group, layers/fusion_rules.hpp): every
    // step's input is the same vector, given as it was before the repeat.
    using fusion_role = fusion::recurrence;
    template <class InputShape, class Backend>
    using repeated_impl = RecurrentImpl<RecurrentLayer, InputShape, Backend, true>;
};

// Repeated: the input is one vector per sample, the input of every step
// (the group of a RepeatVector and this layer). Its projection is one GEMM
// over the batch instead of steps * batch rows, copied to every step; in
// backward the steps' gate gradients are summed first, so that the kernel's
// gradient and dx are GEMMs over the batch too, and dx is already the sum
// that RepeatVector's backward would make. The LSTM adder's decoder (3 steps)
// multiplies a third of the products there.
template <class Layer, class InputShape, class Backend, bool Repeated>
class RecurrentImpl {
    using cell = typename Layer::cell;
    using sequence = typename Layer::template input<InputShape>::sequence;
    static constexpr std::size_t steps = detail::SequenceShape<sequence>::steps;
    static constexpr std::size_t features = detail::SequenceShape<sequence>::features;
    static constexpr std::size_t units = Layer::units;
    // Initial states after the sequence in each input row; final states
    // after the output in each output row.
    static constexpr bool initial_state = Layer::template input<InputShape>::initial_state;
    static constexpr std::size_t states = cell::carry ? 2 : 1;
    static constexpr std::size_t in_row = steps * features + (initial_state ? states * units : 0);
    static constexpr std::size_t out_width = Layer::return_sequences ? steps * units : units;
    static constexpr std::size_t out_row = out_width + (Layer::return_state ? states * units : 0);
    static constexpr std::size_t width = cell::gates * units;  // gate values per sample
    static constexpr std::size_t kernel_size = features * width;
    static constexpr std::size_t recurrent_size = units * width;
    static constexpr bool apart = cell::recurrent_apart;
    static_assert(!(Repeated && initial_state), "ctnn: a repeated input carries no initial states");
    using forward_rows = detail::CellForward<cell, width, units>;
    using backward_rows = detail::CellBackward<cell, width, units>;

public:
    explicit RecurrentImpl(const Layer&) {}

    void reserve(const Backend&, std::size_t max_batch) {
        const std::size_t rows = steps * max_batch;
        if constexpr (!Repeated) inputs_.resize(rows * features);
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

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const Backend& backend = call.backend;
        const std::size_t batch = call.batch;
        const float* params = call.params;
        // The gates start at the bias, and the input projection adds to it:
        // one pass over them fewer than the product and then the bias.
        const std::size_t projected = Repeated ? batch : steps * batch;
        backend.for_each(projected, detail::BiasRows<width>{bias(params), gates_.data()}, width);
        if constexpr (Repeated) {
            backend.gemm(Trans::no, Trans::no, batch, width, features, 1.0f, x, features, kernel(params), width,
                         1.0f, gates_.data(), width);
        } else {
            backend.for_each(batch, detail::TimeMajor{x, inputs_.data(), batch, steps, features, in_row, false},
                             steps * features);
            backend.gemm(Trans::no, Trans::no, steps * batch, width, features, 1.0f, inputs_.data(), features,
                         kernel(params), width, 1.0f, gates_.data(), width);
        }
        if constexpr (initial_state) {
            backend.for_each(batch * units, detail::TakePart{x, in_row, steps * features, units, states_.data()});
            if constexpr (cell::carry)
                backend.for_each(batch * units,
                                 detail::TakePart{x, in_row, steps * features + units, units, carries_.data()});
        } else {
            backend.fill(states_.data(), batch * units, 0.0f);
            if constexpr (cell::carry) backend.fill(carries_.data(), batch * units, 0.0f);
        }

        // The steps, over shares of the batch's rows (core/backend.hpp).
        for_row_shares(backend, batch, share_rows, [&](std::size_t first, std::size_t rows) {
            // A repeated input's projection, the same at every step.
            if constexpr (Repeated)
                for (std::size_t t = 1; t < steps; ++t)
                    backend.copy(gates_.data() + first * width, gates_.data() + (t * batch + first) * width,
                                 rows * width);
            for (std::size_t t = 0; t < steps; ++t) {
                const std::size_t at = t * batch + first;  // the share's first row at step t
                float* gates = gates_.data() + at * width;
                const float* h_prev = states_.data() + at * units;
                float* recurrent = nullptr;
                if constexpr (apart) {
                    recurrent = recurrent_.data() + at * width;
                    if (t == 0 && !initial_state)
                        backend.fill(recurrent, rows * width, 0.0f);
                    else
                        backend.gemm(Trans::no, Trans::no, rows, width, units, 1.0f, h_prev, units,
                                     recurrent_kernel(params), width, 0.0f, recurrent, width);
                } else if (t > 0 || initial_state) {  // a zero h_0 adds nothing
                    backend.gemm(Trans::no, Trans::no, rows, width, units, 1.0f, h_prev, units,
                                 recurrent_kernel(params), width, 1.0f, gates, width);
                }
                float* h = states_.data() + (at + batch) * units;
                const float* c_prev = cell::carry ? carries_.data() + at * units : nullptr;
                float* c = cell::carry ? carries_.data() + (at + batch) * units : nullptr;
                backend.for_each(rows, forward_rows{gates, recurrent, recurrent_bias(params), h_prev, h, c_prev, c},
                                 cost);
            }
        });

        const float* h_last = states_.data() + steps * batch * units;
        if constexpr (Layer::return_sequences)
            backend.for_each(batch,
                             detail::TimeMajor{states_.data() + batch * units, y, batch, steps, units, out_row, true},
                             steps * units);
        else if constexpr (!Layer::return_state)
            backend.copy(h_last, y, batch * units);
        else
            backend.for_each(batch * units, detail::PutPart{h_last, units, y, out_row, 0});
        if constexpr (Layer::return_state) {
            backend.for_each(batch * units, detail::PutPart{h_last, units, y, out_row, out_width});
            if constexpr (cell::carry)
                backend.for_each(batch * units, detail::PutPart{carries_.data() + steps * batch * units, units, y,
                                                                out_row, out_width + units});
        }
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float* x, const float*, float* dy, float* dx) {
        const Backend& backend = call.backend;
        const std::size_t batch = call.batch;
        const float* params = call.params;
        float* grads = call.grads;
        float* dh = dh_.data();
        float* dc = dc_.data();
        // The final states' gradients, where the layer returns them.
        if constexpr (Layer::return_state)
            backend.for_each(batch * units, detail::TakePart{dy, out_row, out_width, units, dh});
        else
            backend.fill(dh, batch * units, 0.0f);
        if constexpr (Layer::return_state && cell::carry)
            backend.for_each(batch * units, detail::TakePart{dy, out_row, out_width + units, units, dc});
        else
            backend.fill(dc, batch * units, 0.0f);
        // Back through the steps, over the same shares of rows as forward.
        for_row_shares(backend, batch, share_rows, [&](std::size_t first, std::size_t rows) {
            const float* dy_rows = dy + first * out_row;
            float* dh_rows = dh + first * units;
            float* dc_rows = dc + first * units;
            for (std::size_t t = steps; t-- > 0;) {
                // The output's gradient at step t joins the one from step t + 1.
                if constexpr (Layer::return_sequences)
                    backend.for_each(rows * units, detail::AddStepGradient{dy_rows, dh_rows, out_row, t, units});
                else if (t == steps - 1 && Layer::return_state)  // the output is h_T, beside it
                    backend.for_each(rows * units, detail::AddStepGradient{dy_rows, dh_rows, out_row, 0, units});
                else if (t == steps - 1)
                    backend.copy(dy_rows, dh_rows, rows * units);
                const std::size_t at = t * batch + first;  // the share's first row at step t
                const float* gates = gates_.data() + at * width;
                const float* recurrent = apart ? recurrent_.data() + at * width : nullptr;
                const float* h_prev = states_.data() + at * units;
                const float* c_prev = cell::carry ? carries_.data() + at * units : nullptr;
                const float* c = cell::carry ? carries_.data() + (at + batch) * units : nullptr;
                float* d_gates = d_gates_.data() + at * width;
                float* d_recurrent = apart ? d_recurrent_.data() + at * width : d_gates;
                backend.for_each(rows,
                                 backward_rows{gates, recurrent, h_prev, c_prev, c, dh_rows, dc_rows, d_gates,
                                               d_recurrent},
                                 cost);
                // dL/dh_{t-1}: through the recurrent kernel, plus the cell's
                // direct path; dL/dh_0 only for a given initial state.
                if (t > 0 || initial_state)
                    backend.gemm(Trans::no, Trans::yes, rows, units, width, 1.0f, d_recurrent, width,
                                 recurrent_kernel(params), width, cell::direct_path ? 1.0f : 0.0f, dh_rows, units);
            }
        });

        // The kernels' gradients over all steps at once; a zero h_0 adds nothing.
        const float* d_recurrent = apart ? d_recurrent_.data() : d_gates_.data();
        if constexpr (!Repeated)
            backend.gemm(Trans::yes, Trans::no, features, width, steps * batch, 1.0f, inputs_.data(), features,
                         d_gates_.data(), width, 0.0f, grads, width);
        float* recurrent_grad = grads + kernel_size;
        constexpr std::size_t first = initial_state ? 0 : 1;  // the first step whose h_{t-1} counts
        if (steps > first)
            backend.gemm(Trans::yes, Trans::no, units, width, (steps - first) * batch, 1.0f,
                         states_.data() + first * batch * units, units, d_recurrent + first * batch * width, width,
                         0.0f, recurrent_grad, width);
        else
            backend.fill(recurrent_grad, recurrent_size, 0.0f);
        backend.column_sums(d_gates_.data(), steps * batch, width, grads + kernel_size + recurrent_size);
        if constexpr (apart)
            backend.column_sums(d_recurrent, steps * batch, width, grads + kernel_size + recurrent_size + width);
        if constexpr (Repeated) {
            // Step 0's gate gradients receive the steps' sum (the recurrent
            // kernel's gradient and the bias's have read them all).
            float* summed = d_gates_.data();
            backend.for_each(batch * width, detail::SumSteps{summed, batch * width, steps}, steps);
            backend.gemm(Trans::yes, Trans::no, features, width, batch, 1.0f, x, features, summed, width, 0.0f,
                         grads, width);
            if (!dx) return nullptr;
            backend.gemm(Trans::no, Trans::yes, batch, features, width, 1.0f, summed, width, kernel(params), width,
                         0.0f, dx, features);
            return dx;
        }
        if (!dx) return nullptr;
        // The time-major input copy is no longer needed: it receives dL/dx.
        backend.gemm(Trans::no, Trans::yes, steps * batch, features, width, 1.0f, d_gates_.data(), width,
                     kernel(params), width, 0.0f, inputs_.data(), features);
        backend.for_each(batch, detail::TimeMajor{inputs_.data(), dx, batch, steps, features, in_row, true},
                         steps * features);
        // The initial states' gradients: what came back to h_0 (and c_0).
        if constexpr (initial_state) {
            backend.for_each(batch * units, detail::PutPart{dh, units, dx, in_row, steps * features});
            if constexpr (cell::carry)
                backend.for_each(batch * units, detail::PutPart{dc, units, dx, in_row, steps * features + units});
        }
        return dx;
    }

private:
    // A row costs several exponentials per value: finer grain than a copy.
    static constexpr std::size_t cost = 8 * width;
    // The fewest rows a share of the batch runs its steps on, each share on
    // a thread of its own where the backend splits rows: a step's GEMM of
    // so many rows still keeps a core busy, and the steps need no barrier
    // between them.
    static constexpr std::size_t share_rows = 64;

    static const float* kernel(const float* params) { return params; }
    static const float* recurrent_kernel(const float* params) { return params + kernel_size; }
    static const float* bias(const float* params) { return params + kernel_size + recurrent_size; }
    static const float* recurrent_bias(const float* params) {
        return apart ? bias(params) + width : nullptr;
    }

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
