#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

TEST_CASE("Dense: hand-computed forward pass") {
    // W (inputs x units) = [[1, 2], [3, 4]], b = [0.5, -1], x = [1, -1]:
    // y = [1*1 - 1*3 + 0.5, 1*2 - 1*4 - 1] = [-1.5, -3].
    ctnn::Dense<2>::impl<ctnn::Shape<2>, Cpu> dense(ctnn::Dense<2>{});
    std::vector<float> params{1, 2, 3, 4, 0.5f, -1}, x{1, -1}, y(2);
    dense.forward({}, params.data(), x.data(), y.data(), 1);
    CHECK(y[0] == -1.5f);
    CHECK(y[1] == -3.0f);
}

TEST_CASE("Dense: batch forward equals x W + b computed by xtensor-blas") {
    constexpr std::size_t batch = 7, in = 5, out = 3;
    ctnn::Dense<out>::impl<ctnn::Shape<in>, Cpu> dense(ctnn::Dense<out>{});
    ctnn::Rng rng(3);
    auto params = ctnn::testing::random_values(in * out + out, rng);
    auto x = ctnn::testing::random_values(batch * in, rng);
    std::vector<float> y(batch * out);
    dense.forward({}, params.data(), x.data(), y.data(), batch);

    auto X = xt::adapt(x, std::vector<std::size_t>{batch, in});
    auto W = xt::adapt(params.data(), in * out, xt::no_ownership(), std::vector<std::size_t>{in, out});
    auto b = xt::adapt(params.data() + in * out, out, xt::no_ownership(), std::vector<std::size_t>{out});
    xt::xtensor<float, 2> expected = xt::linalg::dot(X, W) + b;
    for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t j = 0; j < out; ++j) CHECK(y[i * out + j] == doctest::Approx(expected(i, j)).epsilon(1e-5));
}

TEST_CASE("Dense: gradients, plain and with each fused activation") {
    using In = ctnn::Shape<6>;
    using namespace ctnn::testing;
    check_gradients<ctnn::Dense<4>::impl<In, Cpu>, 6, 4>(ctnn::Dense<4>::impl<In, Cpu>(ctnn::Dense<4>{}));
    check_gradients<ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::Tanh>, 6, 4>(
        ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::Tanh>(ctnn::Dense<4>{}, {}));
    check_gradients<ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::Sigmoid>, 6, 4>(
        ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::Sigmoid>(ctnn::Dense<4>{}, {}));
    // A smaller step keeps the probes on one side of LeakyReLU's kink.
    check_gradients<ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::LeakyRelu>, 6, 4>(
        ctnn::Dense<4>::impl<In, Cpu, ctnn::ops::LeakyRelu>(ctnn::Dense<4>{}, {0.2f}),
        {.step = 1e-3f, .tolerance = 5e-3f});
}

TEST_CASE("Dense: L2 regulariser adds l2*sum(W^2) to the loss and 2*l2*W to the gradient") {
    using Impl = ctnn::Dense<2>::impl<ctnn::Shape<2>, Cpu>;
    Impl dense(ctnn::Dense<2>{.l2 = 0.01f});
    std::vector<float> params{1, 2, 3, 4, 0.5f, -1};
    // 0.01 * (1 + 4 + 9 + 16) = 0.3; the bias is not regularised.
    CHECK(dense.penalty(params.data()) == doctest::Approx(0.3));

    // With dL/dy = 0 only the regulariser contributes: dW = 2 * 0.01 * W.
    std::vector<float> x{1, 1}, y(2), dy{0, 0}, grads(6);
    dense.forward({}, params.data(), x.data(), y.data(), 1);
    dense.backward({}, params.data(), grads.data(), x.data(), y.data(), dy.data(), nullptr, 1);
    for (int i = 0; i < 4; ++i) CHECK(grads[i] == doctest::Approx(0.02 * params[i]));
    CHECK(grads[4] == 0.0f);
    CHECK(grads[5] == 0.0f);
}

TEST_CASE("Dense: Glorot-uniform kernel within Keras's limit, zero bias") {
    constexpr std::size_t in = 300, out = 100;
    ctnn::Dense<out>::impl<ctnn::Shape<in>, Cpu> dense(ctnn::Dense<out>{});
    std::vector<float> params(in * out + out, 1.0f);
    ctnn::Rng rng(5);
    dense.initialize(params.data(), rng);
    const double limit = std::sqrt(6.0 / (in + out));
    double sum = 0, sum_sq = 0;
    for (std::size_t i = 0; i < in * out; ++i) {
        CHECK(std::fabs(params[i]) <= limit);
        sum += params[i];
        sum_sq += double(params[i]) * params[i];
    }
    const double n = in * out;
    CHECK(sum / n == doctest::Approx(0.0).epsilon(0.01).scale(limit));
    // Uniform(-a, a) has variance a^2 / 3.
    CHECK(sum_sq / n == doctest::Approx(limit * limit / 3).epsilon(0.03));
    for (std::size_t i = in * out; i < params.size(); ++i) CHECK(params[i] == 0.0f);
}

TEST_CASE("Dense: He-normal kernel has Keras's standard deviation sqrt(2 / fan_in)") {
    constexpr std::size_t in = 400, out = 100;
    ctnn::Dense<out>::impl<ctnn::Shape<in>, Cpu> dense(
        ctnn::Dense<out>{.kernel_initializer = ctnn::Initializer::he_normal});
    std::vector<float> params(in * out + out);
    ctnn::Rng rng(9);
    dense.initialize(params.data(), rng);
    double sum_sq = 0;
    for (std::size_t i = 0; i < in * out; ++i) sum_sq += double(params[i]) * params[i];
    CHECK(std::sqrt(sum_sq / (in * out)) == doctest::Approx(std::sqrt(2.0 / in)).epsilon(0.03));
}
