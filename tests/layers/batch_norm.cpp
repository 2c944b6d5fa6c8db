#include <doctest/doctest.h>

#include <algorithm>
#include <boost/mp11/algorithm.hpp>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/layers/batch_norm.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_batch_norm_test {

template <class Backend, class In>
using NormStack = ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, ctnn::BatchNorm>;

const ctnn::Context training{ctnn::Mode::training, 1, 0, 0};
const ctnn::Context inference{};

// An epsilon small enough that the hand-computed values below hold to Approx.
constexpr float tiny = 1e-6f;

template <class Stack>
void set_params(Stack& stack, const std::vector<float>& params) {
    REQUIRE(params.size() == stack.params().size());
    std::copy(params.begin(), params.end(), stack.params().begin());
}

void check_values(std::span<const float> got, const std::vector<double>& expected, double epsilon = 1e-5) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("value ", i);
        CHECK(got[i] == doctest::Approx(expected[i]).epsilon(epsilon));
    }
}

TEST_CASE_TEMPLATE("BatchNorm: hand-computed training forward, per feature over the batch", Backend,
                   CTNN_TEST_BACKENDS) {
    // x = [[1, 4], [3, 8]] (2 samples of Shape<2>).
    // feature 0: mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1, x-hat = [-1, 1]
    // feature 1: mean 6, variance ((4-6)^2 + (8-6)^2) / 2 = 4, x-hat = [-1, 1]
    // gamma = [2, 0.5], beta = [0.5, -1]:
    // y = [[2*-1 + 0.5, 0.5*-1 - 1], [2*1 + 0.5, 0.5*1 - 1]] = [[-1.5, -1.5], [2.5, -0.5]].
    NormStack<Backend, ctnn::Shape<2>> bn(ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny});
    set_params(bn, {2, 0.5f, 0.5f, -1});
    const std::vector<float> x{1, 4, 3, 8};
    check_values(bn.forward(x, 2, training), {-1.5, -1.5, 2.5, -0.5});
}

TEST_CASE_TEMPLATE("BatchNorm: running statistics follow Keras's momentum with the unbiased variance", Backend,
                   CTNN_TEST_BACKENDS) {
    NormStack<Backend, ctnn::Shape<2>> bn(ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny});
    set_params(bn, {2, 0.5f, 0.5f, -1});
    // The state: moving_mean (per feature), then moving_variance.
    const auto state = bn.state();
    REQUIRE(state.size() == 4);
    CHECK(state[0] == 0.0f);
    CHECK(state[3] == 1.0f);

    // Step 1, x = [[1, 4], [3, 8]]: means [2, 6]; unbiased variances (N/(N-1) = 2)
    // [2, 8]. running mean = 0.9*0 + 0.1*[2, 6] = [0.2, 0.6];
    // running variance = 0.9*1 + 0.1*[2, 8] = [1.1, 1.7].
    const std::vector<float> x1{1, 4, 3, 8};
    bn.forward(x1, 2, training);
    check_values(state, {0.2, 0.6, 1.1, 1.7});

    // Step 2, x = [[0, 2], [2, 2]]: means [1, 2]; unbiased variances [2, 0].
    // running mean = 0.9*[0.2, 0.6] + 0.1*[1, 2] = [0.28, 0.74];
    // running variance = 0.9*[1.1, 1.7] + 0.1*[2, 0] = [1.19, 1.53].
    const std::vector<float> x2{0, 2, 2, 2};
    bn.forward(x2, 2, training);
    check_values(state, {0.28, 0.74, 1.19, 1.53});

    // Inference uses them and leaves them alone: for x = [1, 4],
    // y0 = 2 * (1 - 0.28) / sqrt(1.19) + 0.5 = 1.8200453,
    // y1 = 0.5 * (4 - 0.74) / sqrt(1.53) - 1 = 0.3177765.
    const std::vector<float> x3{1, 4};
    for (int repeat = 0; repeat < 2; ++repeat)
        check_values(bn.forward(x3, 1, inference), {1.8200453, 0.3177765});
    check_values(state, {0.28, 0.74, 1.19, 1.53});
}

TEST_CASE_TEMPLATE("BatchNorm: one value per channel leaves the running variance finite", Backend,
                   CTNN_TEST_BACKENDS) {
    // N = 1: the biased variance, 0, stands in for the undefined unbiased one.
    NormStack<Backend, ctnn::Shape<1>> bn(ctnn::BatchNorm{.momentum = 0.5f});
    set_params(bn, {1, 0});
    const std::vector<float> x{3};
    CHECK(bn.forward(x, 1, training)[0] == 0.0f);
    check_values(bn.state(), {1.5, 0.5});
}

TEST_CASE_TEMPLATE("BatchNorm: images normalise per channel over batch, height and width", Backend,
                   CTNN_TEST_BACKENDS) {
    // Shape<2, 1, 2>, 2 samples (NCHW): channel 0 holds {1, 3} and {5, 7},
    // channel 1 holds {0, 0} and {4, 4}.
    // channel 0: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5; channel 1: mean 2, variance 4.
    NormStack<Backend, ctnn::Shape<2, 1, 2>> bn(ctnn::BatchNorm{.epsilon = tiny});
    set_params(bn, {1, 1, 0, 0});
    const std::vector<float> x{1, 3, 0, 0, 5, 7, 4, 4};
    const double r5 = std::sqrt(5.0);
    check_values(bn.forward(x, 2, training), {-3 / r5, -1 / r5, -1, -1, 1 / r5, 3 / r5, 1, 1});
    // Means weighted by 1 - 0.99; unbiased variances 5 * 4/3 and 4 * 4/3.
    check_values(bn.state(), {0.01 * 4, 0.01 * 2, 0.99 + 0.01 * 20.0 / 3, 0.99 + 0.01 * 16.0 / 3});
}

TEST_CASE_TEMPLATE("BatchNorm: rank 2 normalises per last axis, over batch and steps", Backend,
                   CTNN_TEST_BACKENDS) {
    // Shape<2, 2>, one sample [[1, 10], [3, 20]]: feature 0 holds {1, 3}, feature 1 {10, 20}.
    NormStack<Backend, ctnn::Shape<2, 2>> bn(ctnn::BatchNorm{.epsilon = tiny});
    set_params(bn, {1, 1, 0, 0});
    const std::vector<float> x{1, 10, 3, 20};
    check_values(bn.forward(x, 1, training), {-1, -1, 1, 1});
    CHECK(bn.state()[1] == doctest::Approx(0.01 * 15));
}

TEST_CASE_TEMPLATE("BatchNorm: gradients overwrite their slots; a first layer still gets them", Backend,
                   CTNN_TEST_BACKENDS) {
    // x = [[1, 4], [3, 8]], x-hat = [[-1, -1], [1, 1]], dy = [[1, 2], [3, 5]]:
    // dgamma = sum(dy * x-hat) = [-1 + 3, -2 + 5] = [2, 3]; dbeta = sum(dy) = [4, 7].
    NormStack<Backend, ctnn::Shape<2>> bn(ctnn::BatchNorm{.epsilon = tiny});
    set_params(bn, {2, 0.5f, 0.5f, -1});
    const std::vector<float> x{1, 4, 3, 8}, dy{1, 2, 3, 5};
    // Twice: a second backward overwrites the first one's gradients.
    for (int repeat = 0; repeat < 2; ++repeat) {
        bn.forward(x, 2, training);
        bn.backward(dy, 2, training, false);
        check_values(bn.grads(), {2, 3, 4, 7});
    }
}

TEST_CASE_TEMPLATE("BatchNorm: inference backward is the affine gradient with running statistics", Backend,
                   CTNN_TEST_BACKENDS) {
    // Fresh running statistics (mean 0, variance 1): y = gamma * x / sqrt(1 + eps) + beta,
    // so dx = gamma * dy / sqrt(1 + eps), dgamma = sum(dy * x) / sqrt(1 + eps).
    NormStack<Backend, ctnn::Shape<2>> bn(ctnn::BatchNorm{});
    set_params(bn, {2, -3, 0, 0});
    const std::vector<float> x{1, 4, 3, 8}, dy{1, 2, 3, 5};
    bn.forward(x, 2, inference);
    const auto dx = bn.backward(dy, 2, inference);
    const double s = 1.0 / std::sqrt(1.001);
    check_values(dx, {2 * s, -6 * s, 6 * s, -15 * s});
    check_values(bn.grads(), {(1 * 1 + 3 * 3) * s, (2 * 4 + 5 * 8) * s, 4, 7});
    check_values(bn.state(), {0, 0, 1, 1});
}

TEST_CASE_TEMPLATE("BatchNorm: gradients through the batch statistics in training mode", Backend,
                   CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, ctnn::Shape<2, 3, 3>>({.batch = 3}, ctnn::BatchNorm{});
    check_gradients<Backend, ctnn::Shape<5>>({.batch = 4}, ctnn::BatchNorm{});
    check_gradients<Backend, ctnn::Shape<3, 4>>({.batch = 3}, ctnn::BatchNorm{});
}

TEST_CASE_TEMPLATE("BatchNorm: gradients at inference", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<5>>({.context = ctnn::Context{}}, ctnn::BatchNorm{});
}

TEST_CASE_TEMPLATE("BatchNorm: initialize sets gamma 1, beta 0 and resets the running statistics", Backend,
                   CTNN_TEST_BACKENDS) {
    typename ctnn::Sequential<ctnn::Input<3>, ctnn::BatchNorm>::template on<Backend> net{};
    std::fill(net.parameters().begin(), net.parameters().end(), 7.0f);
    const std::vector<float> x{1, 2, 3, 4, 5, 6};
    net.forward(x, 2, training);
    CHECK(std::as_const(net).state()[2] != 0.0f);
    net.initialize(1);
    const auto params = std::as_const(net).parameters();
    CHECK((std::vector<float>(params.begin(), params.end()) == std::vector<float>{1, 1, 1, 0, 0, 0}));
    const auto state = std::as_const(net).state();
    CHECK((std::vector<float>(state.begin(), state.end()) == std::vector<float>{0, 0, 0, 1, 1, 1}));
}

TEST_CASE_TEMPLATE("BatchNorm: momentum and epsilon outside their ranges are rejected", Backend,
                   CTNN_TEST_BACKENDS) {
    using Stack = NormStack<Backend, ctnn::Shape<3>>;
    CHECK_THROWS_AS(Stack(ctnn::BatchNorm{.momentum = 1.5f}), std::invalid_argument);
    CHECK_THROWS_AS(Stack(ctnn::BatchNorm{.epsilon = 0.0f}), std::invalid_argument);
}

#if defined(_OPENMP)
TEST_CASE_TEMPLATE("BatchNorm: results do not depend on the thread count", Backend, CTNN_TEST_BACKENDS) {
    // 64 channels of 8x8 and a batch of 64: enough work to split over threads.
    using Shape = ctnn::Shape<64, 8, 8>;
    using Stack = NormStack<Backend, Shape>;
    constexpr std::size_t batch = 64;
    ctnn::Rng rng(4);
    const auto params = ctnn::testing::random_values(Stack::param_count, rng);
    const auto x = ctnn::testing::random_values(batch * Shape::size, rng);
    const auto dy = ctnn::testing::random_values(batch * Shape::size, rng);
    auto run = [&](int threads) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(threads);
        Stack bn(ctnn::BatchNorm{});
        set_params(bn, params);
        const auto y = bn.forward(x, batch, training);
        std::vector<float> all(y.begin(), y.end());
        const auto dx = bn.backward(dy, batch, training);
        omp_set_num_threads(saved);
        all.insert(all.end(), dx.begin(), dx.end());
        all.insert(all.end(), bn.grads().begin(), bn.grads().end());
        all.insert(all.end(), bn.state().begin(), bn.state().end());
        return all;
    };
    CHECK((run(1) == run(4)));
}
#endif

TEST_CASE_TEMPLATE("BatchNorm: shapes and array sizes in a Sequential", Backend, CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<3, 4, 4>, ctnn::BatchNorm, ctnn::Flatten,
                                          ctnn::Dense<2>>::template on<Backend>;
    static_assert(Net::param_count == 2 * 3 + 48 * 2 + 2);
    static_assert(Net::state_count == 2 * 3);
    using Bound = boost::mp11::mp_at_c<typename Net::layers, 0>;
    static_assert(std::is_same_v<typename Bound::output_shape, ctnn::Shape<3, 4, 4>>);
    static_assert(Bound::param_count == 6);
    static_assert(ctnn::own_state_count<ctnn::BatchNorm, ctnn::Shape<3, 4, 4>> == 6);
    static_assert(ctnn::own_param_count<ctnn::BatchNorm, ctnn::Shape<5>> == 10);
    static_assert(ctnn::own_param_count<ctnn::BatchNorm, ctnn::Shape<7, 5>> == 10);
    static_assert(std::is_same_v<typename Net::output_shape, ctnn::Shape<2>>);

    Net net{ctnn::Seed{3}};
    const auto gamma = std::as_const(net).template parameter<1, "gamma">();
    const auto beta = std::as_const(net).template parameter<1, "beta">();
    REQUIRE(gamma.size() == 3);
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(gamma(c) == 1.0f);
        CHECK(beta(c) == 0.0f);
    }
    ctnn::Rng rng(8);
    const auto x = ctnn::testing::random_values(4 * 48, rng);
    for (float v : net.forward(x, 4, training)) CHECK(std::isfinite(v));
    for (float v : net.forward(x, 4)) CHECK(std::isfinite(v));
}

TEST_CASE_TEMPLATE("BatchNorm: a network trains with batch statistics and infers with running ones", Backend,
                   CTNN_TEST_BACKENDS) {
    // Net = Input<2>, BatchNorm(momentum 0.9): its output is the normalised input.
    typename ctnn::Sequential<ctnn::Input<2>, ctnn::BatchNorm>::template on<Backend> net{
        ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny}};
    const std::vector<float> x{1, 4, 3, 8};
    // Training: x-hat = [[-1, -1], [1, 1]] (see the hand-computed case above).
    check_values(net.forward(x, 2, training), {-1, -1, 1, 1});

    // Backward as the first layer: no dx, but dgamma = sum(dy x-hat), dbeta = sum(dy).
    float* dy = net.output_gradient();
    dy[0] = 1, dy[1] = 2, dy[2] = 3, dy[3] = 5;
    net.backward(training, 2);
    check_values(net.gradients(), {2, 3, 4, 7});

    // Inference after one step: running mean [0.2, 0.6], variance [1.1, 1.7].
    check_values(net.forward(std::span<const float>(x).first(2), 1),
                 {(1 - 0.2) / std::sqrt(1.1), (4 - 0.6) / std::sqrt(1.7)});
}

} // namespace layers_batch_norm_test
