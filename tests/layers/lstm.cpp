#include <doctest/doctest.h>

#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include <ctnn/data/dataset.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/lstm.hpp>
#include <ctnn/layers/repeat_vector.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/layers/time_distributed.hpp>
#include <ctnn/losses/categorical_cross_entropy.hpp>
#include <ctnn/optimizers/adam.hpp>
#include <ctnn/sequential.hpp>
#include <ctnn/training/fit.hpp>
#include <ctnn/training/sequence_metrics.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"
#include "support/recurrent_check.hpp"

namespace layers_lstm_test {

// The output shape follows ReturnSequences; 4 gates of (features + units + 1) weights per unit.
using Last = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::LSTM<16>>;
using Every = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::LSTM<16, true>>;
static_assert(std::is_same_v<Last::output_shape, ctnn::Shape<16>>);
static_assert(std::is_same_v<Every::output_shape, ctnn::Shape<7, 16>>);
static_assert(Last::param_count == 4 * 16 * (12 + 16 + 1));
static_assert(Every::param_count == Last::param_count);
// Stacked: the second layer reads the first one's sequence.
static_assert(std::is_same_v<ctnn::Sequential<ctnn::Input<5, 3>, ctnn::LSTM<8, true>,
                                              ctnn::LSTM<4>>::output_shape,
                             ctnn::Shape<4>>);

TEST_CASE_TEMPLATE("LSTM: two steps computed by hand, Keras's gate order i, f, c, o",
                   Backend, CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<2, 2>;
    // One unit, two features. Kernel (2 x 4), recurrent kernel (1 x 4), bias (4).
    const std::vector<float> params{0.1f, 0.2f, 0.3f, 0.4f,  -0.5f, 0.6f, -0.7f, 0.8f,
                                    0.5f, -0.5f, 0.25f, 1.0f,
                                    0.1f, 1.0f, -0.1f, 0.0f};
    const std::vector<float> x{1.0f, 2.0f, 0.5f, -1.0f};
    // Step 1 (h0 = c0 = 0): pre-activations x1 W + b = [-0.8, 2.4, -1.2, 2.0];
    //   c1 = sigmoid(-0.8) tanh(-1.2) = -0.258454,  h1 = sigmoid(2.0) tanh(c1) = -0.222709.
    // Step 2: x2 W + h1 U + b = [0.538646, 0.611354, 0.694323, -0.822709];
    //   c2 = sigmoid(0.611354) c1 + sigmoid(0.538646) tanh(0.694323) = 0.211830,
    //   h2 = sigmoid(-0.822709) tanh(c2) = 0.063698.
    const auto every = ctnn::testing::run_sequence<Backend, In>(ctnn::LSTM<1, true>{}, params, x);
    CHECK(every[0] == doctest::Approx(-0.22270877).epsilon(1e-5));
    CHECK(every[1] == doctest::Approx(0.06369836).epsilon(1e-5));
    const auto last = ctnn::testing::run_sequence<Backend, In>(ctnn::LSTM<1>{}, params, x);
    CHECK(last[0] == every[1]);
}

TEST_CASE_TEMPLATE("LSTM: gradients through four steps, last state and whole sequence", Backend,
                   CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<4, 3>;
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::LSTM<5>{});
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::LSTM<5, true>{});
}

TEST_CASE_TEMPLATE("LSTM: Keras's initialisation and shapes", Backend, CTNN_TEST_BACKENDS) {
    constexpr std::size_t features = 12, units = 32, width = 4 * units;
    using Net = typename ctnn::Sequential<ctnn::Input<7, features>, ctnn::LSTM<units>>::template on<Backend>;
    const Net net{ctnn::Seed{4}};
    const auto kernel = net.template parameter<1, "kernel">();
    const auto recurrent = net.template parameter<1, "recurrent_kernel">();
    const auto bias = net.template parameter<1, "bias">();
    CHECK((kernel.shape() == std::array<std::size_t, 2>{features, width}));
    CHECK((recurrent.shape() == std::array<std::size_t, 2>{units, width}));
    CHECK((bias.shape() == std::array<std::size_t, 1>{width}));
    ctnn::testing::check_glorot_limit(kernel.data(), features, width);
    ctnn::testing::check_orthonormal_rows(recurrent.data(), units, width);
    // Keras's unit_forget_bias: the forget gate's quarter at 1.
    for (std::size_t k = 0; k < width; ++k) CHECK(bias(k) == (k >= units && k < 2 * units ? 1.0f : 0.0f));

    const Net zero_bias{ctnn::Seed{4}, ctnn::LSTM<units>{.bias_initializer = ctnn::Initializer::zeros}};
    for (float b : zero_bias.template parameter<1, "bias">()) CHECK(b == 0.0f);
}

TEST_CASE_TEMPLATE("LSTM: a network gives every sample of a batch what it gives it alone", Backend,
                   CTNN_TEST_BACKENDS) {
    typename ctnn::Sequential<ctnn::Input<3, 2>, ctnn::LSTM<4, true>, ctnn::LSTM<3>>::template on<Backend> net{
        ctnn::Seed{3}};
    ctnn::Rng rng(5);
    const auto x = ctnn::testing::random_values(5 * 6, rng);
    const auto batched = net.forward(x, 5);
    const std::vector<float> all(batched.begin(), batched.end());
    for (std::size_t s = 0; s < 5; ++s) {
        const auto alone = net.forward(std::span(x).subspan(s * 6, 6), 1);
        for (std::size_t j = 0; j < 3; ++j) CHECK(alone[j] == doctest::Approx(all[s * 3 + j]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("LSTM: a small encoder-decoder learns to reverse sequences", Backend, CTNN_TEST_BACKENDS) {
    // Every sequence of 4 symbols out of 4, one-hot; the target is the
    // sequence reversed, as class indices.
    using Net = typename ctnn::Sequential<ctnn::Input<4, 4>, ctnn::LSTM<24>, ctnn::RepeatVector<4>,
                                          ctnn::LSTM<24, true>, ctnn::TimeDistributed<ctnn::Dense<4>>,
                                          ctnn::Softmax>::template on<Backend>;
    ctnn::data::Dataset data{xt::zeros<float>({256, 16}), xt::zeros<float>({256, 4})};
    for (std::size_t n = 0; n < 256; ++n)
        for (std::size_t t = 0; t < 4; ++t) {
            std::size_t symbol = n >> (2 * t) & 3;
            data.inputs(n, t * 4 + symbol) = 1.0f;
            data.targets(n, 3 - t) = float(symbol);
        }
    Net net{ctnn::Seed{1}};
    const double before = ctnn::sequence_accuracy(net, data).per_sequence();
    ctnn::fit(net, ctnn::Adam{1e-2f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 50, .batch_size = 32, .seed = 2, .verbosity = ctnn::Verbosity::silent});
    const auto after = ctnn::sequence_accuracy(net, data);
    CHECK(before < 0.1);
    CHECK(after.per_sequence() > 0.9);
}

} // namespace layers_lstm_test
