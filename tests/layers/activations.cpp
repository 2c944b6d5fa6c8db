#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include <ctnn/layers/activations.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_activations_test {

using ctnn::testing::LayerStack;

// One sample of four values through a lone activation layer.
template <class Backend, class Layer>
std::vector<float> run_layer(const Layer& layer, const std::vector<float>& x) {
    LayerStack<Backend, ctnn::Shape<4>, ctnn::Fusion::fused, Layer> stack(layer);
    const auto y = stack.forward(x, 1);
    return {y.begin(), y.end()};
}

const std::vector<float> x{-2.0f, -0.5f, 0.5f, 2.0f};

TEST_CASE_TEMPLATE("activations: reference values", Backend, CTNN_TEST_BACKENDS) {
    auto relu = run_layer<Backend>(ctnn::ReLU{}, x);
    CHECK((relu == std::vector<float>{0.0f, 0.0f, 0.5f, 2.0f}));
    auto leaky = run_layer<Backend>(ctnn::LeakyReLU{0.1f}, x);
    CHECK(leaky[0] == doctest::Approx(-0.2));
    CHECK(leaky[1] == doctest::Approx(-0.05));
    CHECK(leaky[3] == 2.0f);
    auto tanh = run_layer<Backend>(ctnn::Tanh{}, x);
    CHECK(tanh[0] == doctest::Approx(-0.9640275801));
    CHECK(tanh[2] == doctest::Approx(0.4621171573));
    auto sigmoid = run_layer<Backend>(ctnn::Sigmoid{}, x);
    CHECK(sigmoid[0] == doctest::Approx(0.1192029220));
    CHECK(sigmoid[2] == doctest::Approx(0.6224593312));
    CHECK(sigmoid[3] == doctest::Approx(0.8807970780));
}

TEST_CASE_TEMPLATE("activations: Keras's default LeakyReLU slope is 0.3, and it must be positive", Backend,
                   CTNN_TEST_BACKENDS) {
    CHECK(ctnn::LeakyReLU{}.alpha == 0.3f);
    auto leaky = run_layer<Backend>(ctnn::LeakyReLU{}, x);
    CHECK(leaky[0] == doctest::Approx(-0.6));
    CHECK(leaky[1] == doctest::Approx(-0.15));
    CHECK_THROWS_AS(ctnn::LeakyReLU{0.0f}, std::invalid_argument);
}

TEST_CASE_TEMPLATE("activations: gradients", Backend, CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<2, 3>;
    using ctnn::testing::check_gradients;
    check_gradients<Backend, In>({}, ctnn::ReLU{});
    check_gradients<Backend, In>({}, ctnn::LeakyReLU{0.2f});
    check_gradients<Backend, In>({}, ctnn::Tanh{});
    check_gradients<Backend, In>({}, ctnn::Sigmoid{});
}

} // namespace layers_activations_test
