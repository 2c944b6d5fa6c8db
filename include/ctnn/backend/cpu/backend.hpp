// The CPU backend: the kernels every layer's math is written in. A GPU backend
// provides the same static functions over device memory, so a network type
// switches backends with one template argument.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/backend/cpu/openblas.hpp"
#include "ctnn/backend/cpu/small_gemm.hpp"
#include "ctnn/core/buffer.hpp"
#include "ctnn/core/parallel.hpp"

namespace ctnn::backend {

struct Cpu {
    static constexpr const char* name = "CPU";

    template <class T>
    using buffer = AlignedVector<T>;

    // Products with at most this many rows skip OpenBLAS (see small_gemm.hpp).
    static constexpr std::size_t small_batch = 4;

    // Row-major C = alpha * op(A) * op(B) + beta * C, sizes as in BLAS.
    static void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n,
                     std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                     std::size_t ldb, float beta, float* c, std::size_t ldc) {
        if (m <= small_batch && !transpose_a && !transpose_b && beta == 0.0f)
            return cpu::small_gemm(m, n, k, alpha, a, lda, b, ldb, c, ldc);
        cpu::OpenBlas::instance().sgemm(transpose_a, transpose_b, int(m), int(n), int(k), alpha,
                                        a, int(lda), b, int(ldb), beta, c, int(ldc));
    }

    // y[r][c] = op(y[r][c] + bias[c]): the epilogue of a Dense layer, one pass.
    template <class Op>
    static void bias_activation(float* y, const float* bias, std::size_t rows, std::size_t cols,
                                Op op) {
        parallel_for(rows, parallel_grain / cols + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t r = first; r < last; ++r) {
                float* row = y + r * cols;
                for (std::size_t c = 0; c < cols; ++c) row[c] = op(row[c] + bias[c]);
            }
        });
    }

    template <class Op>
    static void activation(const float* x, float* y, std::size_t n, Op op) {
        parallel_for(n, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) y[i] = op(x[i]);
        });
    }

    // dx = dy * op'(y); dx may alias dy.
    template <class Op>
    static void activation_backward(const float* y, const float* dy, float* dx, std::size_t n,
                                    Op op) {
        parallel_for(n, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) dx[i] = dy[i] * op.derivative(y[i]);
        });
    }

    // out[c] = sum over rows of x[r][c]: bias gradients. Split by columns, so
    // every sum runs in the same order whatever the thread count.
    static void column_sums(const float* x, std::size_t rows, std::size_t cols, float* out) {
        parallel_for(cols, parallel_grain / rows + 1, [=](std::size_t first, std::size_t last) {
            std::fill(out + first, out + last, 0.0f);
            for (std::size_t r = 0; r < rows; ++r) {
                const float* row = x + r * cols;
                for (std::size_t c = first; c < last; ++c) out[c] += row[c];
            }
        });
    }

    // out[r] = sum over columns of x[r][c]: bias gradients of channel-major data.
    static void row_sums(const float* x, std::size_t rows, std::size_t cols, float* out) {
        parallel_for(rows, parallel_grain / cols + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t r = first; r < last; ++r) {
                float sum = 0.0f;
                for (std::size_t c = 0; c < cols; ++c) sum += x[r * cols + c];
                out[r] = sum;
            }
        });
    }

    // y += alpha * x
    static void axpy(std::size_t n, float alpha, const float* x, float* y) {
        parallel_for(n, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) y[i] += alpha * x[i];
        });
    }

    static float sum_of_squares(const float* x, std::size_t n) {
        float sum = 0.0f;
        for (std::size_t i = 0; i < n; ++i) sum += x[i] * x[i];
        return sum;
    }

    static void copy(const float* x, float* y, std::size_t n) { std::copy(x, x + n, y); }
};

} // namespace ctnn::backend
