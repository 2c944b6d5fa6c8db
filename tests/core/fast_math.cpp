// ctnn::fast's functions (core/fast_math.hpp) against the standard
// library's, in double, over their ranges: the few ulps the comments
// promise, and NaN kept where the activations must keep it.
#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <initializer_list>
#include <limits>

#include <ctnn/core/fast_math.hpp>

namespace core_fast_math_test {

// The largest error of f against the reference over n points of [low, high],
// relative to max(|reference|, floor).
template <class Fast, class Reference>
double worst_error(Fast fast, Reference reference, double low, double high, int n, double floor = 0.0) {
    double worst = 0.0;
    for (int i = 0; i <= n; ++i) {
        const float x = float(low + (high - low) * i / n);
        const double expected = reference(double(x));
        worst = std::max(worst, std::abs(double(fast(x)) - expected) / std::max(std::abs(expected), floor));
    }
    return worst;
}

TEST_CASE("fast::exp, tanh and sigmoid: within a few float ulps over their ranges") {
    CHECK(worst_error(ctnn::fast::exp, [](double x) { return std::exp(x); }, -87.0, 88.0, 200001) < 4e-7);
    CHECK(worst_error(ctnn::fast::tanh, [](double x) { return std::tanh(x); }, -20.0, 20.0, 200001) < 4e-7);
    CHECK(worst_error(ctnn::fast::sigmoid, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, -80.0, 80.0,
                      200001) < 4e-7);
    CHECK(std::isnan(ctnn::fast::tanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("fast::log: within a few float ulps from the smallest normal float to the largest") {
    CHECK(worst_error(ctnn::fast::log, [](double x) { return std::log(x); }, 1e-6, 4.0, 200001, 1.0) < 4e-7);
    // Box-Muller's draws: (0, 1], down to 2^-25.
    for (float x = 0x1p-25f; x <= 1.0f; x *= 1.0001f)
        REQUIRE(std::abs(ctnn::fast::log(x) - std::log(double(x))) <= 4e-7 * std::max(1.0, -std::log(double(x))));
    for (float x : {std::numeric_limits<float>::min(), 1.0f, 2.0f, 1e30f, std::numeric_limits<float>::max()})
        CHECK(ctnn::fast::log(x) == doctest::Approx(std::log(double(x))).epsilon(4e-7));
}

// Absolute error: 1 - p a^2 near the zeros keeps float steps of 1 (6e-8).
TEST_CASE("fast::cos_turns: cos(2 pi t) to within 2.5e-7 for any t") {
    const double two_pi = 6.283185307179586;
    CHECK(worst_error(ctnn::fast::cos_turns, [&](double t) { return std::cos(two_pi * t); }, -3.0, 3.0, 600001,
                      1.0) < 2.5e-7);
    for (float t : {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, -0.5f})
        CHECK(ctnn::fast::cos_turns(t) == doctest::Approx(std::cos(two_pi * t)).scale(1.0).epsilon(2.5e-7));
}

} // namespace core_fast_math_test
