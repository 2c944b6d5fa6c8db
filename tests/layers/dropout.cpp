#include <algorithm>
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <ctnn/layers/dropout.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_dropout_test {

template <class Backend>
using DropoutStack = ctnn::testing::LayerStack<Backend, ctnn::Shape<1000>, ctnn::Fusion::fused, ctnn::Dropout>;

ctnn::Context training(std::uint64_t seed, std::uint64_t step) { return {ctnn::Mode::training, seed, step, 0}; }

template <class Backend>
std::vector<float> mask(float rate, ctnn::Context context) {
    DropoutStack<Backend> dropout(ctnn::Dropout{rate});
    const std::vector<float> x(1000, 1.0f);
    const auto y = dropout.forward(x, 1, context);
    return {y.begin(), y.end()};
}

TEST_CASE_TEMPLATE("Dropout: passes its input on at inference", Backend, CTNN_TEST_BACKENDS) {
    DropoutStack<Backend> dropout(ctnn::Dropout{0.5f});
    const std::vector<float> x(1000, 1.0f);
    // In place on host memory; elsewhere the same values.
    const auto y = dropout.forward(x, 1);
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
    else CHECK(std::equal(x.begin(), x.end(), y.begin()));
}

TEST_CASE_TEMPLATE("Dropout: drops about `rate` of the values and scales survivors by 1/(1-rate)", Backend,
                   CTNN_TEST_BACKENDS) {
    DropoutStack<Backend> dropout(ctnn::Dropout{0.3f});
    const std::vector<float> x(10000, 2.0f);
    const auto y = dropout.forward(x, 10, training(1, 0));
    std::size_t dropped = 0;
    for (float v : y) {
        if (v == 0.0f) ++dropped;
        else CHECK(v == doctest::Approx(2.0 / 0.7));
    }
    CHECK(double(dropped) / 10000.0 == doctest::Approx(0.3).epsilon(0.05));
}

TEST_CASE_TEMPLATE("Dropout: the mask depends on seed and step only, the same on every backend", Backend,
                   CTNN_TEST_BACKENDS) {
    const auto a = mask<Backend>(0.5f, training(1, 0));
    CHECK((a == mask<Backend>(0.5f, training(1, 0))));
    CHECK((a != mask<Backend>(0.5f, training(1, 1))));
    CHECK((a != mask<Backend>(0.5f, training(2, 0))));
    // Counter-based draws: no backend has a generator of its own.
    CHECK((a == mask<ctnn::backend::Cpu>(0.5f, training(1, 0))));
}

TEST_CASE_TEMPLATE("Dropout: gradients in training mode", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<8>>({}, ctnn::Dropout{0.5f});
}

TEST_CASE_TEMPLATE("Dropout: rate outside [0, 1) is rejected; rate 0 passes its input on in training", Backend,
                   CTNN_TEST_BACKENDS) {
    CHECK_THROWS_AS(ctnn::Dropout{1.0f}, std::invalid_argument);
    CHECK_THROWS_AS(ctnn::Dropout{-0.1f}, std::invalid_argument);
    DropoutStack<Backend> dropout(ctnn::Dropout{0.0f});
    const std::vector<float> x(1000, 1.0f);
    // In place on host memory; elsewhere the same values.
    const auto y = dropout.forward(x, 1, training(1, 0));
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
    else CHECK(std::equal(x.begin(), x.end(), y.begin()));
}

} // namespace layers_dropout_test
