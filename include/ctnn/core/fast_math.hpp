// exp, tanh and the logistic function without library calls, so that loops
// over them vectorise (std::tanh and std::exp are scalar calls in libstdc++).
// GCC vectorises their selects only with -fno-trapping-math or AVX-512's
// masks; ctnn::ctnn compiles with it (CMakeLists.txt).
// Accuracy: a few float ulps over the whole range, which is far below what
// training notices; results are the same on every x86-64 compiler because
// only +, *, / and bit operations are used.
#pragma once

#include <bit>
#include <cstdint>

#include "ctnn/core/config.hpp"

namespace ctnn::fast {

// A float's bits and back: std::bit_cast on the host, the CUDA intrinsics in
// device code (std::bit_cast is not a device function).
CTNN_HOST_DEVICE inline std::int32_t bits_of(float x) {
#if defined(__CUDA_ARCH__)
    return __float_as_int(x);
#else
    return std::bit_cast<std::int32_t>(x);
#endif
}
CTNN_HOST_DEVICE inline float float_of(std::int32_t bits) {
#if defined(__CUDA_ARCH__)
    return __int_as_float(bits);
#else
    return std::bit_cast<float>(bits);
#endif
}

// The polynomial with these coefficients, the highest power's first, at x
// (Horner's rule).
template <class... Coefficients>
CTNN_HOST_DEVICE constexpr float polynomial(float x, float highest, Coefficients... rest) {
    float sum = highest;
    ((sum = sum * x + rest), ...);
    return sum;
}

// e^y for y in [-87.3, 88.7] (clamped beyond, where float over/underflows).
CTNN_HOST_DEVICE inline float exp(float y) {
    y = y < -87.3f ? -87.3f : (y > 88.7f ? 88.7f : y);
    // y = n ln2 + r with |r| <= ln2 / 2; adding 1.5 * 2^23 rounds to an integer.
    constexpr float shifter = 0x1.8p23f;
    float t = y * 1.44269504088896341f + shifter;
    float n = t - shifter;
    // ln2 in two parts (Cody-Waite), so that r keeps its low bits.
    float r = y - n * 0.693145751953125f;
    r = r - n * 1.42860682030941723212e-6f;
    // e^r by its Taylor polynomial to r^7 (relative error < 2e-8 on the range).
    const float p = polynomial(r, 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f,
                               1.0f, 1.0f);
    // Multiply by 2^n through the exponent bits.
    std::int32_t exponent = bits_of(t) - bits_of(shifter);
    return p * float_of((exponent + 127) << 23);
}

CTNN_HOST_DEVICE inline float tanh(float x) {
    float a = x < 0.0f ? -x : x;
    // Near 0, 1 - 2 / (e^2a + 1) cancels; the odd Taylor series is exact to
    // float precision there (next term < 1e-10 at a = 0.3).
    float a2 = a * a;
    float series = polynomial(a2, 21844.0f / 6081075.0f, -1382.0f / 155925.0f, 62.0f / 2835.0f, -17.0f / 315.0f,
                              2.0f / 15.0f, -1.0f / 3.0f);
    series = a + a * a2 * series;
    // Written so that a NaN stays NaN (a < 9 ? a : 9 would make it 9).
    float large = 1.0f - 2.0f / (exp(2.0f * (a > 9.0f ? 9.0f : a)) + 1.0f);
    float magnitude = a < 0.3f ? series : large;
    return x < 0.0f ? -magnitude : magnitude;
}

CTNN_HOST_DEVICE inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

// ln x for a positive normal x (Gaussian noise's Box-Muller draws: a libm
// call per value was 1.0% of seed 003's CNN training step on a Zen 4, and
// kept its loop scalar).
CTNN_HOST_DEVICE inline float log(float x) {
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)): the exponent field, moved
    // so that the mantissa's top half counts to the next power of two.
    const std::int32_t bits = bits_of(x) - 0x3f3504f3;  // sqrt(1/2)'s bits
    const std::int32_t e = bits >> 23;
    const float m = float_of(bits_of(x) - (e << 23));
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: the odd
    // series to s^11 (the next term < 3e-10).
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    const float series = polynomial(s2, 2.0f / 11.0f, 2.0f / 9.0f, 2.0f / 7.0f, 2.0f / 5.0f, 2.0f / 3.0f, 2.0f);
    return float(e) * 0.693147180559945309f + s * series;
}

// cos(2 pi t) for any t (in turns), to within 2.5e-7.
CTNN_HOST_DEVICE inline float cos_turns(float t) {
    // Reduced to w in [0, 1/4] turn, the sign from the quadrant:
    // cos(2 pi t) = cos(2 pi |t - round(t)|) = -cos(2 pi (1/2 - w)).
    constexpr float shifter = 0x1.8p23f;
    float w = t - ((t + shifter) - shifter);
    w = w < 0.0f ? -w : w;
    const bool far = w > 0.25f;
    w = far ? 0.5f - w : w;
    // cos by its Taylor polynomial to a^14 on [0, pi / 2] (error < 7e-9).
    const float a = 6.2831853071795865f * w, a2 = a * a;
    const float p = 1.0f - polynomial(a2, 1.0f / 87178291200.0f, -1.0f / 479001600.0f, 1.0f / 3628800.0f,
                                      -1.0f / 40320.0f, 1.0f / 720.0f, -1.0f / 24.0f, 0.5f) * a2;
    return far ? -p : p;
}

} // namespace ctnn::fast
