// One layer's numbers from outside the network: parameter<I, "name">(), an
// array as an xtensor of its declared shape, and layer_output<I>(), a
// layer's outputs from the last forward() call, shaped (batch, dims...).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace core_layer_access_test {

template <class Tensor>
std::vector<std::size_t> shape_of(const Tensor& t) {
    return {t.shape().begin(), t.shape().end()};
}

using Cnn = ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::Conv2D<2, 3>, ctnn::ReLU, ctnn::Flatten,
                             ctnn::Dense<3>, ctnn::Softmax>;

TEST_CASE("parameter<I, name>: the declared shape, as a view of parameters()") {
    Cnn net{ctnn::Seed{3}};
    auto conv_kernel = net.parameter<1, "kernel">();
    // (filters, channels, height, width), as PyTorch stores them
    CHECK(shape_of(conv_kernel) == std::vector<std::size_t>{2, 1, 3, 3});
    CHECK(shape_of(net.parameter<1, "bias">()) == std::vector<std::size_t>{2});
    auto dense_kernel = net.parameter<4, "kernel">();
    CHECK(shape_of(dense_kernel) == std::vector<std::size_t>{8, 3});  // (inputs, units), as Keras
    auto dense_bias = net.parameter<4, "bias">();

    // Row-major over the flat buffer: the Conv2D's kernel, its bias, then the Dense layer's.
    const std::size_t dense_start = 2 * 9 + 2;
    conv_kernel(1, 0, 2, 1) = 42.0f;
    CHECK(net.parameters()[9 + 2 * 3 + 1] == 42.0f);
    dense_kernel(5, 2) = -7.0f;
    CHECK(net.parameters()[dense_start + 5 * 3 + 2] == -7.0f);
    dense_bias(1) = 0.5f;
    CHECK(net.parameters()[dense_start + 24 + 1] == 0.5f);
    // And the other way round: a view, not a copy.
    net.parameters()[0] = 3.0f;
    CHECK(conv_kernel(0, 0, 0, 0) == 3.0f);
    const Cnn& view = net;
    CHECK(view.parameter<4, "kernel">()(5, 2) == -7.0f);
}

TEST_CASE_TEMPLATE("layer_output: a layer's rows from the last forward(), shaped (batch, dims...)",
                   Backend, CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<3>, ctnn::Dense<2>, ctnn::ReLU,
                                          ctnn::Dense<1>>::template on<Backend>;
    Net net{ctnn::Seed{5}};
    CHECK_THROWS_AS(net.template layer_output<2>(), std::logic_error);
    auto w = net.template layer_parameters<1>();  // kernel (3, 2) then bias (2)
    std::fill(w.begin(), w.end(), 0.0f);
    w[0] = 1.0f;   // unit 0 = x0
    w[1] = -1.0f;  // unit 1 = -x0
    const std::vector<float> x{2.0f, 0.0f, 0.0f, -3.0f, 0.0f, 0.0f};
    auto y = net.forward(x, 2);
    auto hidden = net.template layer_output<2>();  // Dense<2> runs fused with this ReLU
    REQUIRE(shape_of(hidden) == std::vector<std::size_t>{2, 2});
    CHECK(hidden(0, 0) == 2.0f);
    CHECK(hidden(0, 1) == 0.0f);
    CHECK(hidden(1, 0) == 0.0f);
    CHECK(hidden(1, 1) == 3.0f);
    auto last = net.template layer_output<3>();
    // The output buffer itself on host memory, else a copy of it.
    std::vector<float> y_host(y.size());
    net.backend().to_host(y.data(), y_host.data(), y.size());
    if constexpr (Backend::host_memory) CHECK(last.data() == y.data());
    CHECK(last(0, 0) == y_host[0]);
    CHECK(last(1, 0) == y_host[1]);
    CHECK(shape_of(last) == std::vector<std::size_t>{2, 1});

    typename Net::unfused plain{ctnn::Seed{5}};
    std::copy(net.parameters().begin(), net.parameters().end(), plain.parameters().begin());
    plain.forward(x, 2);
    auto pre_activation = plain.template layer_output<1>();
    CHECK(pre_activation(0, 1) == -2.0f);
    CHECK(pre_activation(1, 0) == -3.0f);
}

TEST_CASE_TEMPLATE("layer_output inside a fused group: only after forward_keeping_outputs",
                   Backend, CTNN_TEST_BACKENDS) {
    using Net = typename Cnn::template on<Backend>;
    static_assert(Net::pass_count == 3);  // Conv2D + ReLU, Flatten, Dense + Softmax
    Net net{ctnn::Seed{4}};
    typename Net::unfused plain{ctnn::Seed{4}};
    constexpr std::size_t batch = 3;
    ctnn::Rng rng(9);
    const auto x = ctnn::testing::random_values(batch * 16, rng);
    const auto expected_output = [&] {
        auto y = net.forward(x, batch);
        return std::vector<float>(y.begin(), y.end());
    }();
    // The Conv2D's own output (before its ReLU) never left the fused pass.
    CHECK_THROWS_WITH_AS(net.template layer_output<1>(), doctest::Contains("forward_keeping_outputs"),
                         std::logic_error);
    CHECK_THROWS_AS(net.template layer_output<4>(), std::logic_error);
    CHECK(shape_of(net.template layer_output<2>()) == std::vector<std::size_t>{batch, 2, 2, 2});

    auto y = net.forward_keeping_outputs(x, batch);
    plain.forward(x, batch);
    auto conv = net.template layer_output<1>();
    auto reference = plain.template layer_output<1>();
    REQUIRE(shape_of(conv) == std::vector<std::size_t>{batch, 2, 2, 2});
    REQUIRE(shape_of(reference) == shape_of(conv));
    for (std::size_t i = 0; i < conv.size(); ++i)
        CHECK(conv.flat(i) == doctest::Approx(reference.flat(i)).epsilon(1e-6));
    auto logits = net.template layer_output<4>();
    auto plain_logits = plain.template layer_output<4>();
    REQUIRE(shape_of(logits) == std::vector<std::size_t>{batch, 3});
    for (std::size_t i = 0; i < logits.size(); ++i)
        CHECK(logits.flat(i) == doctest::Approx(plain_logits.flat(i)).epsilon(1e-6));
    // Run layer by layer, the network still computes what the fused passes compute.
    for (std::size_t i = 0; i < y.size(); ++i)
        CHECK(y[i] == doctest::Approx(expected_output[i]).epsilon(1e-6));

    // backward() needs the fused passes' own forward.
    CHECK_THROWS_WITH_AS(net.backward({}, batch), doctest::Contains("forward_keeping_outputs"),
                         std::logic_error);
    // The next forward() keeps nothing inside groups again.
    net.forward(x, batch);
    CHECK_THROWS_AS(net.template layer_output<1>(), std::logic_error);
}

} // namespace core_layer_access_test
