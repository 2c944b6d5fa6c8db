// Weight initialisers with Keras's definitions (fan_in/fan_out as Keras counts them).
#pragma once

#include <cmath>
#include <cstddef>

#include "ctnn/core/random.hpp"

namespace ctnn {

enum class Initializer {
    glorot_uniform,  // Keras's default for Dense and Conv2D
    glorot_normal,
    he_uniform,
    he_normal,  // for ReLU networks
    lecun_uniform,
    lecun_normal,
    zeros,
};

namespace detail {

// Keras's "normal" initialisers draw from a normal truncated at two standard
// deviations, scaled so that the truncated distribution keeps the variance.
inline float truncated_normal(Rng& rng, float stddev) {
    constexpr float truncation_correction = 0.87962566103423978f;
    for (;;) {
        float z = rng.normal();
        if (std::fabs(z) <= 2.0f) return z * stddev / truncation_correction;
    }
}

} // namespace detail

inline void initialize(Initializer kind, float* values, std::size_t count, std::size_t fan_in,
                       std::size_t fan_out, Rng& rng) {
    auto uniform = [&](float variance) {
        float limit = std::sqrt(3.0f * variance);
        for (std::size_t i = 0; i < count; ++i) values[i] = rng.uniform(-limit, limit);
    };
    auto normal = [&](float variance) {
        for (std::size_t i = 0; i < count; ++i)
            values[i] = detail::truncated_normal(rng, std::sqrt(variance));
    };
    float in = float(fan_in), avg = 0.5f * float(fan_in + fan_out);
    switch (kind) {
    case Initializer::glorot_uniform: return uniform(1.0f / avg);
    case Initializer::glorot_normal: return normal(1.0f / avg);
    case Initializer::he_uniform: return uniform(2.0f / in);
    case Initializer::he_normal: return normal(2.0f / in);
    case Initializer::lecun_uniform: return uniform(1.0f / in);
    case Initializer::lecun_normal: return normal(1.0f / in);
    case Initializer::zeros:
        for (std::size_t i = 0; i < count; ++i) values[i] = 0.0f;
        return;
    }
}

} // namespace ctnn
