#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/ctnn.hpp>
#include <ctnn/layers/batch_norm.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

namespace {

const ctnn::Context training{ctnn::Mode::training, 1, 0, 1};
const ctnn::Context inference{};

// An epsilon small enough that the hand-computed values below hold to Approx.
constexpr float tiny = 1e-6f;

} // namespace

TEST_CASE("BatchNorm: hand-computed training forward, per feature over the batch") {
    // x = [[1, 4], [3, 8]] (2 samples of Shape<2>).
    // feature 0: mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1, x-hat = [-1, 1]
    // feature 1: mean 6, variance ((4-6)^2 + (8-6)^2) / 2 = 4, x-hat = [-1, 1]
    // gamma = [2, 0.5], beta = [0.5, -1]:
    // y = [[2*-1 + 0.5, 0.5*-1 - 1], [2*1 + 0.5, 0.5*1 - 1]] = [[-1.5, -1.5], [2.5, -0.5]].
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2>, Cpu>;
    Impl bn(ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny});
    bn.reserve(2);
    std::vector<float> params{2, 0.5f, 0.5f, -1}, x{1, 4, 3, 8}, y(4);
    CHECK(bn.forward(training, params.data(), x.data(), y.data(), 2) == y.data());
    const std::vector<double> expected{-1.5, -1.5, 2.5, -0.5};
    for (std::size_t i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("BatchNorm: running statistics follow Keras's momentum with the unbiased variance") {
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2>, Cpu>;
    Impl bn(ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny});
    bn.reserve(2);
    std::vector<float> params{2, 0.5f, 0.5f, -1}, y(4);
    CHECK(bn.running_mean()[0] == 0.0f);
    CHECK(bn.running_variance()[1] == 1.0f);

    // Step 1, x = [[1, 4], [3, 8]]: means [2, 6]; unbiased variances (N/(N-1) = 2)
    // [2, 8]. running mean = 0.9*0 + 0.1*[2, 6] = [0.2, 0.6];
    // running variance = 0.9*1 + 0.1*[2, 8] = [1.1, 1.7].
    std::vector<float> x1{1, 4, 3, 8};
    bn.forward(training, params.data(), x1.data(), y.data(), 2);
    CHECK(bn.running_mean()[0] == doctest::Approx(0.2));
    CHECK(bn.running_mean()[1] == doctest::Approx(0.6));
    CHECK(bn.running_variance()[0] == doctest::Approx(1.1));
    CHECK(bn.running_variance()[1] == doctest::Approx(1.7));

    // Step 2, x = [[0, 2], [2, 2]]: means [1, 2]; unbiased variances [2, 0].
    // running mean = 0.9*[0.2, 0.6] + 0.1*[1, 2] = [0.28, 0.74];
    // running variance = 0.9*[1.1, 1.7] + 0.1*[2, 0] = [1.19, 1.53].
    std::vector<float> x2{0, 2, 2, 2};
    bn.forward(training, params.data(), x2.data(), y.data(), 2);
    CHECK(bn.running_mean()[0] == doctest::Approx(0.28));
    CHECK(bn.running_mean()[1] == doctest::Approx(0.74));
    CHECK(bn.running_variance()[0] == doctest::Approx(1.19));
    CHECK(bn.running_variance()[1] == doctest::Approx(1.53));

    // Inference uses them and leaves them alone: for x = [1, 4],
    // y0 = 2 * (1 - 0.28) / sqrt(1.19) + 0.5 = 1.8200453,
    // y1 = 0.5 * (4 - 0.74) / sqrt(1.53) - 1 = 0.3177765.
    std::vector<float> x3{1, 4};
    for (int repeat = 0; repeat < 2; ++repeat) {
        bn.forward(inference, params.data(), x3.data(), y.data(), 1);
        CHECK(y[0] == doctest::Approx(1.8200453).epsilon(1e-5));
        CHECK(y[1] == doctest::Approx(0.3177765).epsilon(1e-5));
    }
    CHECK(bn.running_mean()[0] == doctest::Approx(0.28));
    CHECK(bn.running_variance()[1] == doctest::Approx(1.53));
}

TEST_CASE("BatchNorm: one value per channel leaves the running variance finite") {
    // N = 1: the biased variance, 0, stands in for the undefined unbiased one.
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<1>, Cpu>;
    Impl bn(ctnn::BatchNorm{.momentum = 0.5f});
    bn.reserve(1);
    std::vector<float> params{1, 0}, x{3}, y(1);
    bn.forward(training, params.data(), x.data(), y.data(), 1);
    CHECK(y[0] == 0.0f);
    CHECK(bn.running_mean()[0] == doctest::Approx(1.5));
    CHECK(bn.running_variance()[0] == doctest::Approx(0.5));
}

TEST_CASE("BatchNorm: images normalise per channel over batch, height and width") {
    // Shape<2, 1, 2>, 2 samples (NCHW): channel 0 holds {1, 3} and {5, 7},
    // channel 1 holds {0, 0} and {4, 4}.
    // channel 0: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5; channel 1: mean 2, variance 4.
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2, 1, 2>, Cpu>;
    Impl bn(ctnn::BatchNorm{.epsilon = tiny});
    bn.reserve(2);
    std::vector<float> params{1, 1, 0, 0}, x{1, 3, 0, 0, 5, 7, 4, 4}, y(8);
    bn.forward(training, params.data(), x.data(), y.data(), 2);
    const double r5 = std::sqrt(5.0);
    const std::vector<double> expected{-3 / r5, -1 / r5, -1, -1, 1 / r5, 3 / r5, 1, 1};
    for (std::size_t i = 0; i < 8; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    // Unbiased: 5 * 4/3 and 4 * 4/3, weighted by 1 - 0.99.
    CHECK(bn.running_mean()[0] == doctest::Approx(0.01 * 4));
    CHECK(bn.running_variance()[0] == doctest::Approx(0.99 + 0.01 * 20.0 / 3));
    CHECK(bn.running_variance()[1] == doctest::Approx(0.99 + 0.01 * 16.0 / 3));
}

TEST_CASE("BatchNorm: rank 2 normalises per last axis, over batch and steps") {
    // Shape<2, 2>, one sample [[1, 10], [3, 20]]: feature 0 holds {1, 3}, feature 1 {10, 20}.
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2, 2>, Cpu>;
    Impl bn(ctnn::BatchNorm{.epsilon = tiny});
    bn.reserve(1);
    std::vector<float> params{1, 1, 0, 0}, x{1, 10, 3, 20}, y(4);
    bn.forward(training, params.data(), x.data(), y.data(), 1);
    const std::vector<double> expected{-1, -1, 1, 1};
    for (std::size_t i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    CHECK(bn.running_mean()[1] == doctest::Approx(0.01 * 15));
}

TEST_CASE("BatchNorm: gradients overwrite their slots; a first layer still gets them") {
    // x = [[1, 4], [3, 8]], x-hat = [[-1, -1], [1, 1]], dy = [[1, 2], [3, 5]]:
    // dgamma = sum(dy * x-hat) = [-1 + 3, -2 + 5] = [2, 3]; dbeta = sum(dy) = [4, 7].
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2>, Cpu>;
    Impl bn(ctnn::BatchNorm{.epsilon = tiny});
    bn.reserve(2);
    std::vector<float> params{2, 0.5f, 0.5f, -1}, x{1, 4, 3, 8}, y(4), dy{1, 2, 3, 5};
    std::vector<float> grads(4, 100.0f);
    bn.forward(training, params.data(), x.data(), y.data(), 2);
    CHECK(bn.backward(training, params.data(), grads.data(), x.data(), y.data(), dy.data(), nullptr,
                      2) == nullptr);
    const std::vector<double> expected{2, 3, 4, 7};
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(grads[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("BatchNorm: inference backward is the affine gradient with running statistics") {
    // Fresh running statistics (mean 0, variance 1): y = gamma * x / sqrt(1 + eps) + beta,
    // so dx = gamma * dy / sqrt(1 + eps), dgamma = sum(dy * x) / sqrt(1 + eps).
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<2>, Cpu>;
    Impl bn(ctnn::BatchNorm{});
    bn.reserve(2);
    std::vector<float> params{2, -3, 0, 0}, x{1, 4, 3, 8}, y(4), dy{1, 2, 3, 5};
    std::vector<float> dx(4), grads(4);
    bn.forward(inference, params.data(), x.data(), y.data(), 2);
    bn.backward(inference, params.data(), grads.data(), x.data(), y.data(), dy.data(), dx.data(),
                2);
    const double s = 1.0 / std::sqrt(1.001);
    const std::vector<double> expected_dx{2 * s, -6 * s, 6 * s, -15 * s};
    for (std::size_t i = 0; i < 4; ++i) CHECK(dx[i] == doctest::Approx(expected_dx[i]));
    CHECK(grads[0] == doctest::Approx((1 * 1 + 3 * 3) * s));
    CHECK(grads[1] == doctest::Approx((2 * 4 + 5 * 8) * s));
    CHECK(grads[2] == doctest::Approx(4));
    CHECK(grads[3] == doctest::Approx(7));
    CHECK(bn.running_mean()[0] == 0.0f);
}

TEST_CASE("BatchNorm: gradients through the batch statistics in training mode") {
    using namespace ctnn::testing;
    using Image = ctnn::BatchNorm::impl<ctnn::Shape<2, 3, 3>, Cpu>;
    check_gradients<Image, 18, 18>(Image(ctnn::BatchNorm{}), {.batch = 3});
    using Features = ctnn::BatchNorm::impl<ctnn::Shape<5>, Cpu>;
    check_gradients<Features, 5, 5>(Features(ctnn::BatchNorm{}), {.batch = 4});
    using Steps = ctnn::BatchNorm::impl<ctnn::Shape<3, 4>, Cpu>;
    check_gradients<Steps, 12, 12>(Steps(ctnn::BatchNorm{}), {.batch = 3});
}

TEST_CASE("BatchNorm: gradients at inference") {
    using Features = ctnn::BatchNorm::impl<ctnn::Shape<5>, Cpu>;
    ctnn::testing::check_gradients<Features, 5, 5>(Features(ctnn::BatchNorm{}),
                                                   {.context = ctnn::Context{}});
}

TEST_CASE("BatchNorm: initialize sets gamma 1, beta 0 and resets the running statistics") {
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<3>, Cpu>;
    Impl bn(ctnn::BatchNorm{});
    bn.reserve(2);
    std::vector<float> params(6, 7.0f), x{1, 2, 3, 4, 5, 6}, y(6);
    ctnn::Rng rng(1);
    bn.forward(training, params.data(), x.data(), y.data(), 2);
    CHECK(bn.running_mean()[2] != 0.0f);
    bn.initialize(params.data(), rng);
    CHECK((params == std::vector<float>{1, 1, 1, 0, 0, 0}));
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(bn.running_mean()[c] == 0.0f);
        CHECK(bn.running_variance()[c] == 1.0f);
    }
}

TEST_CASE("BatchNorm: momentum and epsilon outside their ranges are rejected") {
    using Impl = ctnn::BatchNorm::impl<ctnn::Shape<3>, Cpu>;
    CHECK_THROWS_AS(Impl(ctnn::BatchNorm{.momentum = 1.5f}), std::invalid_argument);
    CHECK_THROWS_AS(Impl(ctnn::BatchNorm{.epsilon = 0.0f}), std::invalid_argument);
}

#if defined(_OPENMP)
TEST_CASE("BatchNorm: results do not depend on the thread count") {
    // 64 channels of 8x8 and a batch of 64: enough work to split over threads.
    using Shape = ctnn::Shape<64, 8, 8>;
    using Impl = ctnn::BatchNorm::impl<Shape, Cpu>;
    constexpr std::size_t batch = 64;
    ctnn::Rng rng(4);
    auto params = ctnn::testing::random_values(Impl::param_count, rng);
    auto x = ctnn::testing::random_values(batch * Shape::size, rng);
    auto dy = ctnn::testing::random_values(batch * Shape::size, rng);
    auto run = [&](int threads) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(threads);
        Impl bn(ctnn::BatchNorm{});
        bn.reserve(batch);
        std::vector<float> y(x.size()), dx(x.size()), grads(Impl::param_count), g = dy;
        bn.forward(training, params.data(), x.data(), y.data(), batch);
        bn.backward(training, params.data(), grads.data(), x.data(), y.data(), g.data(), dx.data(),
                    batch);
        omp_set_num_threads(saved);
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), grads.begin(), grads.end());
        y.insert(y.end(), bn.running_variance().begin(), bn.running_variance().end());
        return y;
    };
    CHECK((run(1) == run(4)));
}
#endif

TEST_CASE("BatchNorm: shapes and parameter counts in a Sequential") {
    using Net =
        ctnn::Sequential<ctnn::Input<3, 4, 4>, ctnn::BatchNorm, ctnn::Flatten, ctnn::Dense<2>>;
    static_assert(Net::param_count == 2 * 3 + 48 * 2 + 2);
    using Bound = boost::mp11::mp_at_c<Net::layers, 0>;
    static_assert(std::is_same_v<Bound::output_shape, ctnn::Shape<3, 4, 4>>);
    static_assert(Bound::param_count == 6);
    static_assert(ctnn::BatchNorm::non_trainable_count<ctnn::Shape<3, 4, 4>> == 6);
    static_assert(ctnn::BatchNorm::param_count<ctnn::Shape<5>> == 10);
    static_assert(ctnn::BatchNorm::param_count<ctnn::Shape<7, 5>> == 10);
    static_assert(std::is_same_v<Net::output_shape, ctnn::Shape<2>>);

    Net net{ctnn::Seed{3}};
    auto params = net.parameters();
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(params[c] == 1.0f);
        CHECK(params[3 + c] == 0.0f);
    }
    ctnn::Rng rng(8);
    auto x = ctnn::testing::random_values(4 * 48, rng);
    auto trained = net.forward(x, 4, ctnn::Context{ctnn::Mode::training, 1, 0, 0});
    for (float v : trained) CHECK(std::isfinite(v));
    auto inferred = net.forward(x, 4);
    for (float v : inferred) CHECK(std::isfinite(v));
}

TEST_CASE("BatchNorm: a network trains with batch statistics and infers with running ones") {
    // Net = Input<2>, BatchNorm(momentum 0.9): its output is the normalised input.
    using Net = ctnn::Sequential<ctnn::Input<2>, ctnn::BatchNorm>;
    Net net{ctnn::BatchNorm{.momentum = 0.9f, .epsilon = tiny}};
    std::vector<float> x{1, 4, 3, 8};
    // Training: x-hat = [[-1, -1], [1, 1]] (see the hand-computed case above).
    auto y = net.forward(x, 2, ctnn::Context{ctnn::Mode::training, 1, 0, 0});
    const std::vector<double> expected{-1, -1, 1, 1};
    for (std::size_t i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));

    // Backward as the first layer: no dx, but dgamma = sum(dy x-hat), dbeta = sum(dy).
    float* dy = net.output_gradient();
    dy[0] = 1, dy[1] = 2, dy[2] = 3, dy[3] = 5;
    net.backward(ctnn::Context{ctnn::Mode::training, 1, 0, 0}, 2);
    const std::vector<double> expected_grads{2, 3, 4, 7};
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(net.gradients()[i] == doctest::Approx(expected_grads[i]).epsilon(1e-5));

    // Inference after one step: running mean [0.2, 0.6], variance [1.1, 1.7].
    auto z = net.forward(std::span<const float>(x.data(), 2), 1);
    CHECK(z[0] == doctest::Approx((1 - 0.2) / std::sqrt(1.1)).epsilon(1e-5));
    CHECK(z[1] == doctest::Approx((4 - 0.6) / std::sqrt(1.7)).epsilon(1e-5));
}
