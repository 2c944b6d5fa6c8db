#include <doctest/doctest.h>

#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using In = ctnn::Shape<2, 3>;

template <class Layer>
std::vector<float> run_layer(const Layer& layer, std::vector<float> x) {
    typename Layer::template impl<ctnn::Shape<4>, Cpu> impl(layer);
    std::vector<float> y(4);
    impl.forward({}, nullptr, x.data(), y.data(), 1);
    return y;
}

TEST_CASE("activations: reference values") {
    std::vector<float> x{-2.0f, -0.5f, 0.5f, 2.0f};
    auto relu = run_layer(ctnn::ReLU{}, x);
    CHECK((relu == std::vector<float>{0.0f, 0.0f, 0.5f, 2.0f}));
    auto leaky = run_layer(ctnn::LeakyReLU{0.1f}, x);
    CHECK(leaky[0] == doctest::Approx(-0.2));
    CHECK(leaky[1] == doctest::Approx(-0.05));
    CHECK(leaky[3] == 2.0f);
    auto tanh = run_layer(ctnn::Tanh{}, x);
    CHECK(tanh[0] == doctest::Approx(-0.9640275801));
    CHECK(tanh[2] == doctest::Approx(0.4621171573));
    auto sigmoid = run_layer(ctnn::Sigmoid{}, x);
    CHECK(sigmoid[0] == doctest::Approx(0.1192029220));
    CHECK(sigmoid[2] == doctest::Approx(0.6224593312));
    CHECK(sigmoid[3] == doctest::Approx(0.8807970780));
}

TEST_CASE("activations: Keras's default LeakyReLU slope is 0.3, and it must be positive") {
    CHECK(ctnn::LeakyReLU{}.alpha == 0.3f);
    CHECK_THROWS_AS(ctnn::LeakyReLU{0.0f}, std::invalid_argument);
}

TEST_CASE("activations: gradients") {
    using namespace ctnn::testing;
    check_gradients<ctnn::ReLU::impl<In, Cpu>, 6, 6>(ctnn::ReLU::impl<In, Cpu>(ctnn::ReLU{}));
    check_gradients<ctnn::LeakyReLU::impl<In, Cpu>, 6, 6>(ctnn::LeakyReLU::impl<In, Cpu>(ctnn::LeakyReLU{0.2f}));
    check_gradients<ctnn::Tanh::impl<In, Cpu>, 6, 6>(ctnn::Tanh::impl<In, Cpu>(ctnn::Tanh{}));
    check_gradients<ctnn::Sigmoid::impl<In, Cpu>, 6, 6>(ctnn::Sigmoid::impl<In, Cpu>(ctnn::Sigmoid{}));
}
