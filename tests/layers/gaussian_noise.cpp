#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using Impl = ctnn::GaussianNoise::impl<ctnn::Shape<1000>, Cpu>;

TEST_CASE("GaussianNoise: identity at inference") {
    Impl noise(ctnn::GaussianNoise{0.1f});
    std::vector<float> x(1000, 1.0f), y(1000);
    CHECK(noise.forward({}, nullptr, x.data(), y.data(), 1) == x.data());
}

TEST_CASE("GaussianNoise: adds zero-mean noise of the given standard deviation in training") {
    Impl noise(ctnn::GaussianNoise{0.5f});
    std::vector<float> x(20000, 3.0f), y(20000);
    noise.forward({ctnn::Mode::training, 4, 0, 1}, nullptr, x.data(), y.data(), 20);
    double sum = 0, sum_sq = 0;
    for (float v : y) {
        sum += v - 3.0;
        sum_sq += (v - 3.0) * (v - 3.0);
    }
    CHECK(sum / 20000 == doctest::Approx(0.0).scale(0.5).epsilon(0.02));
    CHECK(std::sqrt(sum_sq / 20000) == doctest::Approx(0.5).epsilon(0.02));
}

TEST_CASE("GaussianNoise: gradients pass through") {
    using Small = ctnn::GaussianNoise::impl<ctnn::Shape<6>, Cpu>;
    ctnn::testing::check_gradients<Small, 6, 6>(Small(ctnn::GaussianNoise{0.3f}));
}
