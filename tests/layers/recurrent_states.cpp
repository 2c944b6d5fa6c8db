// Recurrent layers' initial states (Shapes<sequence, h, c> in) and final
// states (ReturnState: Shapes<output, h, c> out), as Keras's initial_state
// and return_state: what an encoder-decoder hands from one LSTM to the next.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_recurrent_states_test {

using ctnn::Shape;
using ctnn::Shapes;

template <class Layer, class In>
using output_of = decltype(Layer::template output_shape<1, In>());

// The layer's outputs on `batch` rows of x, with the given parameters.
template <class Backend, class In, class Layer>
std::vector<float> run(const std::vector<float>& params, const std::vector<float>& x, std::size_t batch) {
    ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, Layer> stack(Layer{});
    REQUIRE(params.size() == stack.params().size());
    std::copy(params.begin(), params.end(), stack.params().begin());
    const auto y = stack.forward(x, batch);
    return {y.begin(), y.end()};
}

// A sequence of 5 steps run in one go, and as 3 steps whose final states
// start the last 2: the same outputs for those 2 steps, and the same final
// states.
template <class Backend, template <std::size_t, bool, bool> class Rnn, std::size_t States>
void check_split_run() {
    constexpr std::size_t units = 3, features = 2, batch = 2;
    using Whole = Rnn<units, true, true>;
    using Head = Rnn<units, false, true>;
    using Tail = Rnn<units, true, true>;
    using StateShapes = std::conditional_t<States == 2, Shapes<Shape<2, features>, Shape<units>, Shape<units>>,
                                           Shapes<Shape<2, features>, Shape<units>>>;
    ctnn::testing::LayerStack<Backend, Shape<5, features>, ctnn::Fusion::fused, Whole> probe(Whole{});
    probe.initialize(5);
    const std::vector<float> params(probe.params().begin(), probe.params().end());
    ctnn::Rng rng(2);
    const std::vector<float> x = ctnn::testing::random_values(batch * 5 * features, rng);

    const std::vector<float> whole = run<Backend, Shape<5, features>, Whole>(params, x, batch);
    std::vector<float> first, rest;
    for (std::size_t b = 0; b < batch; ++b) {
        first.insert(first.end(), x.begin() + std::ptrdiff_t(b * 10), x.begin() + std::ptrdiff_t(b * 10 + 6));
    }
    const std::vector<float> head = run<Backend, Shape<3, features>, Head>(params, first, batch);
    const std::size_t head_row = units * (1 + States);
    for (std::size_t b = 0; b < batch; ++b) {
        rest.insert(rest.end(), x.begin() + std::ptrdiff_t(b * 10 + 6), x.begin() + std::ptrdiff_t(b * 10 + 10));
        // The head's final states (after its output, which is h_3 again).
        rest.insert(rest.end(), head.begin() + std::ptrdiff_t(b * head_row + units),
                    head.begin() + std::ptrdiff_t((b + 1) * head_row));
    }
    const std::vector<float> tail = run<Backend, StateShapes, Tail>(params, rest, batch);
    const std::size_t whole_row = 5 * units + States * units, tail_row = 2 * units + States * units;
    for (std::size_t b = 0; b < batch; ++b) {
        // Head: its output and h_3 are step 3 of the whole run.
        for (std::size_t j = 0; j < units; ++j) {
            CHECK(head[b * head_row + j] == doctest::Approx(whole[b * whole_row + 2 * units + j]).epsilon(1e-5));
            CHECK(head[b * head_row + units + j] == doctest::Approx(whole[b * whole_row + 2 * units + j]).epsilon(1e-5));
        }
        // Tail: steps 4 and 5 and the final states.
        for (std::size_t j = 0; j < tail_row; ++j)
            CHECK(tail[b * tail_row + j] == doctest::Approx(whole[b * whole_row + 3 * units + j]).epsilon(1e-5));
    }
}

template <std::size_t U, bool S, bool R>
using Lstm = ctnn::LSTM<U, S, R>;
template <std::size_t U, bool S, bool R>
using Gru = ctnn::GRU<U, S, R>;
template <std::size_t U, bool S, bool R>
using Rnn = ctnn::SimpleRNN<U, S, R>;

// A Keras-style encoder-decoder: the encoder's states start the decoder.
using Seq2Seq = ctnn::Sequential<ctnn::Input<4, 3>, ctnn::LSTM<6, false, true>,
                                 ctnn::Parallel<ctnn::RepeatVector<2>, ctnn::Flatten, ctnn::Flatten>,
                                 ctnn::LSTM<6, true>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Softmax>;

static_assert(std::is_same_v<output_of<ctnn::LSTM<4, false, true>, Shape<3, 2>>, Shapes<Shape<4>, Shape<4>, Shape<4>>>);
static_assert(std::is_same_v<output_of<ctnn::GRU<4, true, true>, Shape<3, 2>>, Shapes<Shape<3, 4>, Shape<4>>>);
static_assert(std::is_same_v<output_of<ctnn::LSTM<4, true>, Shapes<Shape<3, 2>, Shape<4>, Shape<4>>>, Shape<3, 4>>);
static_assert(std::is_same_v<output_of<ctnn::SimpleRNN<4>, Shapes<Shape<3, 2>, Shape<4>>>, Shape<4>>);
// The states add no parameters.
static_assert(ctnn::BoundLayer<1, ctnn::LSTM<4>, Shapes<Shape<3, 2>, Shape<4>, Shape<4>>>::param_count ==
              ctnn::BoundLayer<1, ctnn::LSTM<4>, Shape<3, 2>>::param_count);
static_assert(std::is_same_v<Seq2Seq::output_shape, Shape<2, 3>>);

TEST_CASE_TEMPLATE("recurrent states: a sequence split in two, the first part's final states starting the second, "
                   "runs as the whole",
                   Backend, CTNN_TEST_BACKENDS) {
    check_split_run<Backend, Lstm, 2>();
    check_split_run<Backend, Gru, 1>();
    check_split_run<Backend, Rnn, 1>();
}

// A batch of 160 against its parts of 40 run one at a time: the CPU backend
// runs the 160 rows' steps on shares of the batch, a thread each (at least
// 64 rows a share, recurrent.hpp), and each part whole. Every row's output
// and input gradient are its own; the parameters' gradients sum the parts'.
template <class Backend, class In, class... Layers>
void check_row_shares(const Layers&... layers) {
    constexpr std::size_t batch = 160, part = 40;
    ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, Layers...> stack(layers...);
    stack.initialize(4);
    ctnn::Rng rng(6);
    const std::vector<float> x = ctnn::testing::random_values(batch * In::size, rng);
    const auto y = stack.forward(x, batch);
    const std::vector<float> whole_y(y.begin(), y.end());
    const std::size_t out = whole_y.size() / batch;
    const std::vector<float> dy = ctnn::testing::random_values(whole_y.size(), rng);
    const auto dx = stack.backward(dy, batch);
    const std::vector<float> whole_dx(dx.begin(), dx.end());
    const std::vector<float> whole_grads(stack.grads().begin(), stack.grads().end());
    std::vector<float> grads(whole_grads.size(), 0.0f);
    for (std::size_t first = 0; first < batch; first += part) {
        const auto part_y = stack.forward(std::span(x).subspan(first * In::size, part * In::size), part);
        for (std::size_t i = 0; i < part * out; ++i)
            CHECK(part_y[i] == doctest::Approx(whole_y[first * out + i]).epsilon(1e-6));
        const auto part_dx = stack.backward(std::span(dy).subspan(first * out, part * out), part);
        for (std::size_t i = 0; i < part * In::size; ++i)
            CHECK(part_dx[i] == doctest::Approx(whole_dx[first * In::size + i]).epsilon(1e-6));
        for (std::size_t i = 0; i < grads.size(); ++i) grads[i] += stack.grads()[i];
    }
    for (std::size_t i = 0; i < grads.size(); ++i) CHECK(grads[i] == doctest::Approx(whole_grads[i]).epsilon(1e-4));
}

TEST_CASE_TEMPLATE("recurrent states: a batch run on shares of its rows computes what its parts do", Backend,
                   CTNN_TEST_BACKENDS) {
    check_row_shares<Backend, Shapes<Shape<3, 2>, Shape<4>, Shape<4>>>(ctnn::LSTM<4, true, true>{});
    check_row_shares<Backend, Shape<3, 2>>(ctnn::LSTM<4>{});
    check_row_shares<Backend, Shapes<Shape<3, 2>, Shape<4>>>(ctnn::GRU<4, false, true>{});
    check_row_shares<Backend, Shape<3, 2>>(ctnn::SimpleRNN<4, true>{});
    // RepeatVector and the recurrent layer as one group (repeated_impl).
    check_row_shares<Backend, Shape<2>>(ctnn::RepeatVector<3>{}, ctnn::LSTM<4, true>{});
    check_row_shares<Backend, Shape<2>>(ctnn::RepeatVector<3>{}, ctnn::GRU<4, true>{});
}

TEST_CASE_TEMPLATE("recurrent states: zero initial states given are no initial states", Backend, CTNN_TEST_BACKENDS) {
    using In = Shapes<Shape<3, 2>, Shape<4>, Shape<4>>;
    ctnn::testing::LayerStack<Backend, Shape<3, 2>, ctnn::Fusion::fused, ctnn::LSTM<4, true>> probe(ctnn::LSTM<4, true>{});
    probe.initialize(1);
    const std::vector<float> params(probe.params().begin(), probe.params().end());
    const std::vector<float> x{0.5f, -1, 0.25f, 2, -0.5f, 1};
    std::vector<float> with_states = x;
    with_states.resize(x.size() + 8, 0.0f);
    const std::vector<float> plain = run<Backend, Shape<3, 2>, ctnn::LSTM<4, true>>(params, x, 1);
    const std::vector<float> given = run<Backend, In, ctnn::LSTM<4, true>>(params, with_states, 1);
    REQUIRE(plain.size() == given.size());
    for (std::size_t i = 0; i < plain.size(); ++i) CHECK(plain[i] == doctest::Approx(given[i]).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("recurrent states: gradients through initial and final states", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Shapes<Shape<3, 2>, Shape<3>, Shape<3>>>({}, ctnn::LSTM<3, true, true>{});
    check_gradients<Backend, Shapes<Shape<3, 2>, Shape<3>, Shape<3>>>({}, ctnn::LSTM<3>{});
    check_gradients<Backend, Shape<3, 2>>({}, ctnn::LSTM<3, false, true>{});
    check_gradients<Backend, Shapes<Shape<3, 2>, Shape<3>>>({}, ctnn::GRU<3, false, true>{});
    check_gradients<Backend, Shapes<Shape<1, 2>, Shape<3>>>({}, ctnn::GRU<3, true>{});
    check_gradients<Backend, Shapes<Shape<4, 2>, Shape<3>>>({}, ctnn::SimpleRNN<3, true, true>{});
}

TEST_CASE_TEMPLATE("recurrent states: an encoder-decoder whose encoder's states start its decoder", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, Shape<4, 3>>(
        {}, ctnn::LSTM<4, false, true>{}, ctnn::Parallel<ctnn::RepeatVector<2>, ctnn::Flatten, ctnn::Flatten>{},
        ctnn::LSTM<4, true>{}, ctnn::TimeDistributed<ctnn::Dense<3>>{});

    // It learns to answer the first and last symbols of a sequence of four.
    using Net = typename Seq2Seq::template on<Backend>;
    ctnn::data::Dataset data{xt::zeros<float>({std::size_t{96}, std::size_t{12}}),
                             xt::zeros<float>({std::size_t{96}, std::size_t{2}})};
    ctnn::Rng rng(4);
    for (std::size_t i = 0; i < 96; ++i)
        for (std::size_t t = 0; t < 4; ++t) {
            const std::size_t symbol = std::size_t(rng.uniform(0.0f, 2.999f));
            data.inputs(i, t * 3 + symbol) = 1.0f;
            if (t == 0) data.targets(i, 0) = float(symbol);
            if (t == 3) data.targets(i, 1) = float(symbol);
        }
    Net net{ctnn::Seed{2}};
    const float before = ctnn::evaluate(net, data).loss;
    ctnn::fit(net, ctnn::Adam{0.03f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 30, .batch_size = 16, .seed = 1, .verbosity = ctnn::Verbosity::silent});
    const ctnn::Evaluation after = ctnn::evaluate(net, data);
    INFO("loss before ", before, ", after ", after.loss, "; accuracy ", after.accuracy);
    CHECK(after.loss < 0.5f * before);
    CHECK(after.accuracy > 0.9f);
}

} // namespace layers_recurrent_states_test
