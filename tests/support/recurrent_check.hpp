// Shared by the recurrent layers' tests: a run of an impl on one sequence,
// and the checks of Keras's initialisation.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/core/layer.hpp>
#include <ctnn/core/random.hpp>

namespace ctnn::testing {

// Forward of `impl` over x (batch 1) with the given parameters.
template <class Impl>
std::vector<float> run_sequence(Impl impl, const std::vector<float>& params,
                                const std::vector<float>& x, std::size_t outputs) {
    REQUIRE(params.size() == Impl::param_count);
    impl.reserve(1);
    std::vector<float> y(outputs);
    const float* out = impl.forward({}, params.data(), x.data(), y.data(), 1);
    return {out, out + outputs};
}

// The rows of a units x width recurrent kernel are orthonormal (Keras's
// orthogonal initializer), whatever the seed.
inline void check_orthonormal_rows(const float* kernel, std::size_t units, std::size_t width) {
    for (std::size_t a = 0; a < units; ++a)
        for (std::size_t b = 0; b < units; ++b) {
            double dot = 0.0;
            for (std::size_t c = 0; c < width; ++c)
                dot += double(kernel[a * width + c]) * kernel[b * width + c];
            CHECK(dot == doctest::Approx(a == b ? 1.0 : 0.0).scale(1.0).epsilon(1e-5));
        }
}

// Every value of a fan_in x fan_out Glorot-uniform kernel is within Keras's limit.
inline void check_glorot_limit(const float* kernel, std::size_t fan_in, std::size_t fan_out) {
    const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
    bool within = true;
    for (std::size_t i = 0; i < fan_in * fan_out; ++i) within = within && std::fabs(kernel[i]) <= limit;
    CHECK(within);
}

} // namespace ctnn::testing
