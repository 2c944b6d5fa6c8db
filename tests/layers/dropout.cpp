#include <doctest/doctest.h>

#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using Impl = ctnn::Dropout::impl<ctnn::Shape<1000>, Cpu>;

TEST_CASE("Dropout: passes its input on at inference") {
    Impl dropout(ctnn::Dropout{0.5f});
    dropout.reserve(1);
    std::vector<float> x(1000, 1.0f), y(1000);
    CHECK(dropout.forward({}, nullptr, x.data(), y.data(), 1) == x.data());
}

TEST_CASE("Dropout: drops about `rate` of the values and scales survivors by 1/(1-rate)") {
    Impl dropout(ctnn::Dropout{0.3f});
    dropout.reserve(10);
    std::vector<float> x(10000, 2.0f), y(10000);
    ctnn::Context training{ctnn::Mode::training, 1, 0, 2};
    dropout.forward(training, nullptr, x.data(), y.data(), 10);
    std::size_t dropped = 0;
    for (float v : y) {
        if (v == 0.0f) ++dropped;
        else CHECK(v == doctest::Approx(2.0 / 0.7));
    }
    CHECK(double(dropped) / 10000.0 == doctest::Approx(0.3).epsilon(0.05));
}

TEST_CASE("Dropout: the mask depends on seed and step only") {
    Impl dropout(ctnn::Dropout{0.5f});
    dropout.reserve(1);
    std::vector<float> x(1000, 1.0f), a(1000), b(1000), c(1000);
    ctnn::Context step0{ctnn::Mode::training, 1, 0, 2}, step1{ctnn::Mode::training, 1, 1, 2};
    dropout.forward(step0, nullptr, x.data(), a.data(), 1);
    dropout.forward(step1, nullptr, x.data(), b.data(), 1);
    dropout.forward(step0, nullptr, x.data(), c.data(), 1);
    CHECK((a == c));
    CHECK((a != b));
}

TEST_CASE("Dropout: gradients in training mode") {
    using Small = ctnn::Dropout::impl<ctnn::Shape<8>, Cpu>;
    ctnn::testing::check_gradients<Small, 8, 8>(Small(ctnn::Dropout{0.5f}));
}

TEST_CASE("Dropout: rate outside [0, 1) is rejected") {
    CHECK_THROWS_AS(ctnn::Dropout{1.0f}, std::invalid_argument);
    CHECK_THROWS_AS(ctnn::Dropout{-0.1f}, std::invalid_argument);
}
