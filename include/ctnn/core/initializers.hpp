// Weight initialisers with Keras's definitions. They run on the host, once,
// before the parameters go to the device; each array's declared layout tells
// its fans (core/parameters.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

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
    ones,
    orthogonal,        // rows orthonormal (recurrent kernels)
    unit_forget_bias,  // zeros but for the second quarter, an LSTM's forget gate, at one
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

// Keras's orthogonal initializer for a rows x cols matrix with rows <= cols:
// rows orthonormal, drawn uniformly (Haar). Gram-Schmidt on Gaussian vectors
// is QR with R's diagonal made positive, the sign fix Keras applies.
inline void orthogonal(std::span<float> values, std::size_t rows, std::size_t cols, Rng& rng) {
    std::vector<double> basis(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) {
        double* v = basis.data() + r * cols;
        for (std::size_t c = 0; c < cols; ++c) v[c] = rng.normal();
        // Twice, so that rounding leaves no component along earlier rows.
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t q = 0; q < r; ++q) {
                const double* u = basis.data() + q * cols;
                double dot = 0.0;
                for (std::size_t c = 0; c < cols; ++c) dot += u[c] * v[c];
                for (std::size_t c = 0; c < cols; ++c) v[c] -= dot * u[c];
            }
        }
        double norm = 0.0;
        for (std::size_t c = 0; c < cols; ++c) norm += v[c] * v[c];
        norm = std::sqrt(norm);
        for (std::size_t c = 0; c < cols; ++c) v[c] /= norm;
    }
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(basis[i]);
}

} // namespace detail

// Fills `values` (a rows x cols matrix for `orthogonal`) with fan_in and
// fan_out as Keras counts them for the array's shape.
inline void initialize(Initializer kind, std::span<float> values, std::size_t fan_in,
                       std::size_t fan_out, Rng& rng) {
    auto uniform = [&](float variance) {
        float limit = std::sqrt(3.0f * variance);
        for (float& v : values) v = rng.uniform(-limit, limit);
    };
    auto normal = [&](float variance) {
        for (float& v : values) v = detail::truncated_normal(rng, std::sqrt(variance));
    };
    auto constant = [&](float value) {
        for (float& v : values) v = value;
    };
    float in = float(fan_in), avg = 0.5f * float(fan_in + fan_out);
    switch (kind) {
    case Initializer::glorot_uniform: return uniform(1.0f / avg);
    case Initializer::glorot_normal: return normal(1.0f / avg);
    case Initializer::he_uniform: return uniform(2.0f / in);
    case Initializer::he_normal: return normal(2.0f / in);
    case Initializer::lecun_uniform: return uniform(1.0f / in);
    case Initializer::lecun_normal: return normal(1.0f / in);
    case Initializer::zeros: return constant(0.0f);
    case Initializer::ones: return constant(1.0f);
    case Initializer::orthogonal: return detail::orthogonal(values, fan_in, fan_out, rng);
    case Initializer::unit_forget_bias:
        constant(0.0f);
        for (std::size_t i = values.size() / 4; i < values.size() / 2; ++i) values[i] = 1.0f;
        return;
    }
}

} // namespace ctnn
