#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnn/layers/softmax.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_softmax_test {

template <class Backend, class In>
using SoftmaxStack = ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, ctnn::Softmax>;

TEST_CASE_TEMPLATE("Softmax: reference values, and stable for large logits", Backend, CTNN_TEST_BACKENDS) {
    SoftmaxStack<Backend, ctnn::Shape<3>> softmax(ctnn::Softmax{});
    const std::vector<float> x{1, 2, 3, 1000, 1001, 1002};
    const auto y = softmax.forward(x, 2);
    // e^k / (e + e^2 + e^3)
    CHECK(y[0] == doctest::Approx(0.0900305732));
    CHECK(y[1] == doctest::Approx(0.2447284711));
    CHECK(y[2] == doctest::Approx(0.6652409558));
    for (int i = 0; i < 3; ++i) CHECK(y[3 + i] == doctest::Approx(y[i]));
}

TEST_CASE_TEMPLATE("Softmax: over the last axis, one distribution per time step", Backend, CTNN_TEST_BACKENDS) {
    SoftmaxStack<Backend, ctnn::Shape<2, 2>> softmax(ctnn::Softmax{});
    const std::vector<float> x{0, 0, 0, std::log(3.0f)};
    const auto y = softmax.forward(x, 1);
    CHECK(y[0] == doctest::Approx(0.5));
    CHECK(y[1] == doctest::Approx(0.5));
    CHECK(y[2] == doctest::Approx(0.25));
    CHECK(y[3] == doctest::Approx(0.75));
}

TEST_CASE_TEMPLATE("Softmax: gradients", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, ctnn::Shape<5>>({}, ctnn::Softmax{});
    check_gradients<Backend, ctnn::Shape<2, 3>>({}, ctnn::Softmax{});
}

TEST_CASE_TEMPLATE("Softmax: a gradient folded into it by the loss passes through unchanged", Backend,
                   CTNN_TEST_BACKENDS) {
    // Cross-entropy hands the output Softmax dL/d(logits) = p - t already.
    SoftmaxStack<Backend, ctnn::Shape<3>> softmax(ctnn::Softmax{});
    const std::vector<float> x{1, 2, 3}, dz{0.25f, -0.5f, 0.25f};
    softmax.forward(x, 1);
    const auto dx = softmax.backward(dz, 1, {}, true, ctnn::OutputGradient::of_folded_activation);
    CHECK((std::vector<float>(dx.begin(), dx.end()) == dz));
}

} // namespace layers_softmax_test
