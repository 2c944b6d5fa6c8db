#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_dense_test {

using ctnn::testing::LayerStack;

template <class Backend, std::size_t Inputs, std::size_t Units>
using DenseStack = LayerStack<Backend, ctnn::Shape<Inputs>, ctnn::Fusion::fused, ctnn::Dense<Units>>;

template <class Backend, class Layer, std::size_t Inputs>
using OneLayer = typename ctnn::Sequential<ctnn::Input<Inputs>, Layer>::template on<Backend>;

TEST_CASE_TEMPLATE("Dense: hand-computed forward pass", Backend, CTNN_TEST_BACKENDS) {
    // W (inputs x units) = [[1, 2], [3, 4]], b = [0.5, -1], x = [1, -1]:
    // y = [1*1 - 1*3 + 0.5, 1*2 - 1*4 - 1] = [-1.5, -3].
    DenseStack<Backend, 2, 2> dense(ctnn::Dense<2>{});
    const std::vector<float> params{1, 2, 3, 4, 0.5f, -1}, x{1, -1};
    std::copy(params.begin(), params.end(), dense.params().begin());
    const auto y = dense.forward(x, 1);
    CHECK(y[0] == -1.5f);
    CHECK(y[1] == -3.0f);
}

TEST_CASE_TEMPLATE("Dense: batch forward equals x W + b computed by xtensor", Backend,
                   CTNN_TEST_BACKENDS) {
    constexpr std::size_t batch = 7, in = 5, out = 3;
    DenseStack<Backend, in, out> dense(ctnn::Dense<out>{});
    ctnn::Rng rng(3);
    const auto params = ctnn::testing::random_values(in * out + out, rng);
    const auto x = ctnn::testing::random_values(batch * in, rng);
    std::copy(params.begin(), params.end(), dense.params().begin());
    const auto y = dense.forward(x, batch);

    const xt::xtensor<float, 2> X = xt::adapt(x, std::array<std::size_t, 2>{batch, in});
    const xt::xtensor<float, 2> W = xt::adapt(params.data(), in * out, xt::no_ownership(), std::array<std::size_t, 2>{in, out});
    const xt::xtensor<float, 1> b = xt::adapt(params.data() + in * out, out, xt::no_ownership(), std::array<std::size_t, 1>{out});
    // x W as a broadcast product summed over the inputs: xtensor alone, no
    // BLAS in the test process but the one ctnn loads.
    const xt::xtensor<float, 2> expected =
        xt::sum(xt::view(X, xt::all(), xt::all(), xt::newaxis()) * xt::view(W, xt::newaxis(), xt::all(), xt::all()),
                {1}) +
        b;
    for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t j = 0; j < out; ++j)
            CHECK(y[i * out + j] == doctest::Approx(expected(i, j)).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("Dense: gradients, plain and with each fused activation", Backend, CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<6>;
    using ctnn::testing::check_gradients;
    check_gradients<Backend, In>({}, ctnn::Dense<4>{});
    check_gradients<Backend, In>({}, ctnn::Dense<4>{}, ctnn::Tanh{});
    check_gradients<Backend, In>({}, ctnn::Dense<4>{}, ctnn::Sigmoid{});
    // A smaller step keeps the probes on one side of LeakyReLU's kink.
    check_gradients<Backend, In>({.step = 1e-3f, .tolerance = 5e-3f}, ctnn::Dense<4>{}, ctnn::LeakyReLU{0.2f});
}

TEST_CASE_TEMPLATE("Dense: L2 regulariser adds l2*sum(W^2) to the loss and 2*l2*W to the gradient", Backend,
                   CTNN_TEST_BACKENDS) {
    OneLayer<Backend, ctnn::Dense<2>, 2> net{ctnn::Dense<2>{.l2 = 0.01f}};
    const std::vector<float> params{1, 2, 3, 4, 0.5f, -1};
    std::copy(params.begin(), params.end(), net.parameters().begin());
    // 0.01 * (1 + 4 + 9 + 16) = 0.3; the bias is not regularised.
    CHECK(net.penalty() == doctest::Approx(0.3));

    // With dL/dy = 0 only the regulariser contributes: dW = 2 * 0.01 * W.
    const std::vector<float> x{1, 1};
    net.forward(x, 1);
    std::fill_n(net.output_gradient(), 2, 0.0f);
    net.backward({}, 1);
    const auto grads = net.gradients();
    for (int i = 0; i < 4; ++i) CHECK(grads[i] == doctest::Approx(0.02 * params[i]));
    CHECK(grads[4] == 0.0f);
    CHECK(grads[5] == 0.0f);
}

TEST_CASE_TEMPLATE("Dense: Glorot-uniform kernel within Keras's limit, zero bias",
                   Backend, CTNN_TEST_BACKENDS) {
    constexpr std::size_t in = 300, out = 100;
    const OneLayer<Backend, ctnn::Dense<out>, in> net{ctnn::Seed{5}};
    const auto kernel = net.template parameter<1, "kernel">();
    const auto bias = net.template parameter<1, "bias">();
    REQUIRE(kernel.shape()[0] == in);
    REQUIRE(kernel.shape()[1] == out);
    REQUIRE(bias.shape()[0] == out);
    const double limit = std::sqrt(6.0 / (in + out));
    double sum = 0, sum_sq = 0;
    for (std::size_t i = 0; i < in; ++i)
        for (std::size_t j = 0; j < out; ++j) {
            CHECK(std::fabs(kernel(i, j)) <= limit);
            sum += kernel(i, j);
            sum_sq += double(kernel(i, j)) * kernel(i, j);
        }
    const double n = in * out;
    CHECK(sum / n == doctest::Approx(0.0).epsilon(0.01).scale(limit));
    // Uniform(-a, a) has variance a^2 / 3.
    CHECK(sum_sq / n == doctest::Approx(limit * limit / 3).epsilon(0.03));
    for (std::size_t j = 0; j < out; ++j) CHECK(bias(j) == 0.0f);
}

TEST_CASE_TEMPLATE("Dense: He-normal kernel has Keras's standard deviation sqrt(2 / fan_in)", Backend,
                   CTNN_TEST_BACKENDS) {
    constexpr std::size_t in = 400, out = 100;
    const OneLayer<Backend, ctnn::Dense<out>, in> net{
        ctnn::Seed{9}, ctnn::Dense<out>{.kernel_initializer = ctnn::Initializer::he_normal}};
    const auto kernel = net.template parameter<1, "kernel">();
    double sum_sq = 0;
    for (float w : kernel) sum_sq += double(w) * w;
    CHECK(std::sqrt(sum_sq / (in * out)) == doctest::Approx(std::sqrt(2.0 / in)).epsilon(0.03));
}

} // namespace layers_dense_test
