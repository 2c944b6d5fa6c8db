// Shared by the recurrent layers' tests: a run of a layer on one sequence,
// and the checks of Keras's initialisation.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "support/layer_stack.hpp"

namespace ctnn::testing {

// The outputs of `layer` over one sequence x of InputShape, with the given
// parameters (kernel, recurrent kernel, bias, as the layer declares them).
template <class Backend, class InputShape, class Layer>
std::vector<float> run_sequence(const Layer& layer, const std::vector<float>& params,
                                const std::vector<float>& x) {
    LayerStack<Backend, InputShape, Fusion::fused, Layer> stack(layer);
    REQUIRE(params.size() == stack.params().size());
    std::copy(params.begin(), params.end(), stack.params().begin());
    const auto y = stack.forward(x, 1);
    return {y.begin(), y.end()};
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

// Every value of a fan_in x fan_out Glorot-uniform kernel is within Keras's
// limit, and the values are not all zero (the kernel was drawn).
inline void check_glorot_limit(const float* kernel, std::size_t fan_in, std::size_t fan_out) {
    const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
    bool within = true, drawn = false;
    for (std::size_t i = 0; i < fan_in * fan_out; ++i) {
        within = within && std::fabs(kernel[i]) <= limit;
        drawn = drawn || kernel[i] != 0.0f;
    }
    CHECK(within);
    CHECK(drawn);
}

} // namespace ctnn::testing
