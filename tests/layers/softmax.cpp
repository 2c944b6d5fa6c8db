#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

TEST_CASE("Softmax: reference values, and stable for large logits") {
    ctnn::Softmax::impl<ctnn::Shape<3>, Cpu> softmax(ctnn::Softmax{});
    std::vector<float> x{1, 2, 3, 1000, 1001, 1002}, y(6);
    softmax.forward({}, nullptr, x.data(), y.data(), 2);
    // e^k / (e + e^2 + e^3)
    CHECK(y[0] == doctest::Approx(0.0900305732));
    CHECK(y[1] == doctest::Approx(0.2447284711));
    CHECK(y[2] == doctest::Approx(0.6652409558));
    for (int i = 0; i < 3; ++i) CHECK(y[3 + i] == doctest::Approx(y[i]));
}

TEST_CASE("Softmax: over the last axis, one distribution per time step") {
    ctnn::Softmax::impl<ctnn::Shape<2, 2>, Cpu> softmax(ctnn::Softmax{});
    std::vector<float> x{0, 0, 0, std::log(3.0f)}, y(4);
    softmax.forward({}, nullptr, x.data(), y.data(), 1);
    CHECK(y[0] == doctest::Approx(0.5));
    CHECK(y[1] == doctest::Approx(0.5));
    CHECK(y[2] == doctest::Approx(0.25));
    CHECK(y[3] == doctest::Approx(0.75));
}

TEST_CASE("Softmax: gradients") {
    using namespace ctnn::testing;
    check_gradients<ctnn::Softmax::impl<ctnn::Shape<5>, Cpu>, 5, 5>(
        ctnn::Softmax::impl<ctnn::Shape<5>, Cpu>(ctnn::Softmax{}));
    check_gradients<ctnn::Softmax::impl<ctnn::Shape<2, 3>, Cpu>, 6, 6>(
        ctnn::Softmax::impl<ctnn::Shape<2, 3>, Cpu>(ctnn::Softmax{}));
}
