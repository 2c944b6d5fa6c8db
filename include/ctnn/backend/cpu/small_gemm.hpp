// C = alpha * A * B + beta * C for a handful of rows of A (batch-1 inference).
// OpenBLAS 0.3.21 runs such calls through its full GEMM path (packing, thread
// hand-off), which costs ~10 us for a 1 x 784 x 250 product that needs ~2 us
// of arithmetic. Here each row of B is streamed once per row of A and the
// columns are split between threads, so each core reads only its half of B.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "ctnn/backend/cpu/parallel.hpp"

namespace ctnn::backend::cpu {

namespace detail {

// One vector register of floats (GCC and clang vector extension; loads and
// stores go through memcpy, so any alignment works), and how many of them
// hold accumulators: 16 of AVX-512's 32, 12 of AVX's 16. A vector wider than
// the target's registers must not be used: GCC then broadcasts `scale`
// through the stack, one scalar store per lane (5x slower on AVX2 hosts).
#if defined(__AVX512F__)
inline constexpr std::size_t lanes = 16;
inline constexpr std::size_t accumulators = 16;
#else
inline constexpr std::size_t lanes = 8;
inline constexpr std::size_t accumulators = 12;
#endif
using floatv = float __attribute__((vector_size(lanes * sizeof(float))));

// out[0, width) = alpha * sum_p a[p] * b[p][0, width) for lanes <= width <= lanes * Blocks.
// The Blocks accumulators stay in registers while the rows of b stream past
// in memory order; the last block is shifted back to end at `width`, so it
// recomputes a few columns (same values, same order) instead of a scalar tail.
template <std::size_t Blocks>
inline void dot_columns(std::size_t k, float alpha, const float* a, const float* b,
                        std::size_t ldb, float* out, std::size_t width) {
    std::size_t start[Blocks];
    for (std::size_t i = 0; i < Blocks; ++i) start[i] = std::min(lanes * i, width - lanes);
    floatv sum[Blocks] = {};
    for (std::size_t p = 0; p < k; ++p) {
        const float scale = a[p];
        // Exact zeros (blank pixels, ReLU outputs) contribute nothing.
        if (scale == 0.0f) continue;
        const float* row = b + p * ldb;
        for (std::size_t i = 0; i < Blocks; ++i) {
            floatv values;
            std::memcpy(&values, row + start[i], sizeof values);
            sum[i] += scale * values;
        }
    }
    for (std::size_t i = 0; i < Blocks; ++i) {
        floatv result = alpha * sum[i];
        std::memcpy(out + start[i], &result, sizeof result);
    }
}

template <std::size_t... Blocks>
inline void dot_columns(std::size_t k, float alpha, const float* a, const float* b,
                        std::size_t ldb, float* out, std::size_t width,
                        std::index_sequence<Blocks...>) {
    const std::size_t blocks = (width + lanes - 1) / lanes;
    ((blocks == Blocks + 1 ? dot_columns<Blocks + 1>(k, alpha, a, b, ldb, out, width) : void()),
     ...);
}

// The same for fewer than `lanes` columns (an output layer): Width accumulators,
// fixed at compile time so the inner loop unrolls.
template <std::size_t Width>
inline void dot_narrow(std::size_t k, float alpha, const float* a, const float* b,
                       std::size_t ldb, float* out) {
    float sum[Width] = {};
    for (std::size_t p = 0; p < k; ++p) {
        const float* row = b + p * ldb;
        for (std::size_t j = 0; j < Width; ++j) sum[j] += a[p] * row[j];
    }
    for (std::size_t j = 0; j < Width; ++j) out[j] = alpha * sum[j];
}

template <std::size_t... Width>
inline void dot_narrow(std::size_t k, float alpha, const float* a, const float* b,
                       std::size_t ldb, float* out, std::size_t width,
                       std::index_sequence<Width...>) {
    ((width == Width + 1 ? dot_narrow<Width + 1>(k, alpha, a, b, ldb, out) : void()), ...);
}

} // namespace detail

// Row-major C = alpha * A * B (beta = 0, no transposes) for few rows of A.
inline void small_gemm(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                       std::size_t lda, const float* b, std::size_t ldb, float* c,
                       std::size_t ldc) {
    using detail::lanes, detail::accumulators;
    // Splitting columns costs a thread wake-up; worth it once B is large.
    const std::size_t grain = k * n >= 65536 ? 64 : n;
    parallel_for(n, grain, [=](std::size_t first, std::size_t last) {
        for (std::size_t r = 0; r < m; ++r) {
            const float* in = a + r * lda;
            float* out = c + r * ldc;
            for (std::size_t j = first; j < last;) {
                std::size_t width = std::min(lanes * accumulators, last - j);
                if (width < lanes && last - first >= lanes) {  // overlap the previous chunk
                    j = last - lanes;
                    width = lanes;
                }
                if (width >= lanes) {
                    detail::dot_columns(k, alpha, in, b + j, ldb, out + j, width,
                                        std::make_index_sequence<accumulators>{});
                } else {
                    detail::dot_narrow(k, alpha, in, b + j, ldb, out + j, width,
                                       std::make_index_sequence<lanes - 1>{});
                }
                j += width;
            }
        }
    });
}

} // namespace ctnn::backend::cpu
