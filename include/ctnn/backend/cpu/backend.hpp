// The CPU backend: OpenBLAS for GEMM, OpenMP threads for everything else.
// It is the worked example of the Backend concept (core/backend.hpp): each
// operation below is one the concept lists, plus the CPU's fast path for
// convolutions (backend/cpu/convolution.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string_view>

#include "ctnn/backend/cpu/bf16_gemm.hpp"
#include "ctnn/backend/cpu/buffer.hpp"
#include "ctnn/backend/cpu/convolution.hpp"
#include "ctnn/backend/cpu/core_sharing.hpp"
#include "ctnn/backend/cpu/openblas.hpp"
#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/backend/cpu/small_gemm.hpp"
#include "ctnn/core/backend.hpp"

namespace ctnn::backend {

// What the matrix products (Dense, Conv2D, the recurrent layers' gates) take
// as inputs: float, or bfloat16 summed in float (backend/cpu/bf16_gemm.hpp).
// Weights, gradients, optimizer state and every other operation stay float,
// as in Keras's "mixed_bfloat16" policy or PyTorch's CPU autocast. Products
// of a few rows (batch-1 inference, small_gemm.hpp) stay float: there the
// rounding would cost more than the arithmetic.
enum class Precision { fp32, bf16 };

class Cpu {
public:
    static constexpr std::string_view name = "CPU";
    static constexpr bool host_memory = true;

    Cpu() = default;
    // Cpu{Precision::bf16}: opt-in mixed precision, on CPUs with AMX or
    // AVX512-BF16 (cpu::bf16::supported()); elsewhere it throws, saying so.
    explicit Cpu(Precision products) : precision_(products) {
        if (products == Precision::bf16 && !cpu::bf16::supported())
            throw std::runtime_error(
                "ctnn: Precision::bf16 needs a CPU with AMX (Intel Sapphire Rapids or later) or "
                "AVX512-BF16 (AMD Zen 4, Intel Cooper Lake); this one has neither: use "
                "Precision::fp32");
    }
    Precision precision() const { return precision_; }

    template <class T>
    using buffer = cpu::AlignedVector<T>;

    // Products with at most this many rows skip OpenBLAS (see small_gemm.hpp).
    static constexpr std::size_t small_batch = 4;
    // Products whose result has at least this many values and beta 0: C is
    // cleared here and OpenBLAS adds to it (see gemm).
    static constexpr std::size_t zeroed_first = 32768;

    // Each training step starts with it: the team shrinks to the cores other
    // programs leave free, and grows back (core_sharing.hpp).
    void between_steps() const { cpu::CoreSharing::instance().between_steps(); }

    void gemm(Trans transpose_a, Trans transpose_b, std::size_t m, std::size_t n, std::size_t k,
              float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
              float beta, float* c, std::size_t ldc) const {
        const bool ta = transpose_a == Trans::yes, tb = transpose_b == Trans::yes;
        if (m <= small_batch && !ta && !tb && beta == 0.0f)
            return cpu::small_gemm(m, n, k, alpha, a, lda, b, ldb, c, ldc);
        if (precision_ == Precision::bf16)
            return cpu::bf16::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (beta == 0.0f && m * n >= zeroed_first) {
            // OpenBLAS clears C with its "beta" kernel, slower than memory:
            // on a Zen 3 a batch-64 MLP's kernel gradient (784 x 250) took
            // 410 us with beta 0 and 330 us cleared here and added to. On the
            // team's threads: on one, the clearing was 2-3% of the MLP's and
            // the LSTM adder's steps, with the other core idle.
            cpu::parallel_for(m, cpu::parallel_grain / n + 1, [=](std::size_t first, std::size_t last) {
                for (std::size_t row = first; row < last; ++row) std::fill_n(c + row * ldc, n, 0.0f);
            }, 1);
            beta = 1.0f;
        }
        cpu::OpenBlas::instance().sgemm(ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b,
                                        int(ldb), beta, c, int(ldc));
    }

    void gemm_strided_batched(Trans transpose_a, Trans transpose_b, std::size_t m, std::size_t n,
                              std::size_t k, float alpha, const float* a, std::size_t lda,
                              std::size_t stride_a, const float* b, std::size_t ldb,
                              std::size_t stride_b, float beta, float* c, std::size_t ldc,
                              std::size_t stride_c, std::size_t count) const {
        for (std::size_t i = 0; i < count; ++i)
            gemm(transpose_a, transpose_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b,
                 ldb, beta, c + i * stride_c, ldc);
    }

    // Contiguous ranges of indices per thread; below about parallel_grain
    // values of work the calling thread runs them all. Indices that write
    // one float each get cache-line aligned ranges; heavier ones even shares.
    template <class F>
    void for_each(std::size_t n, F f, std::size_t cost = 1) const {
        cost = std::max<std::size_t>(cost, 1);
        cpu::parallel_for(
            n, cpu::parallel_grain / cost + 1,
            [&f](std::size_t first, std::size_t last) {
                // A copy on each thread's stack: its pointers stay in registers
                // and the loop vectorises as a hand-written one would.
                const F local = f;
                for (std::size_t i = first; i < last; ++i) local(i);
            },
            cost < 16 ? 16 : 1);
    }

    // for_row_shares (core/backend.hpp): a share of the batch's rows per
    // thread, at least min_rows each. Inside the team OpenBLAS's OpenMP build
    // and parallel_for run on the calling thread, so each share's GEMMs and
    // passes run on its thread alone. OpenBLAS splits a product's rows or
    // columns over its threads, never the sums, so a row's results are the
    // same in any share.
    template <class F>
    void split_rows(std::size_t batch, std::size_t min_rows, F& f) const {
        const std::size_t most = batch / std::max<std::size_t>(min_rows, 1);
        if (most < 2 || cpu::thread_count() < 2) return f(std::size_t{0}, batch);
        cpu::parallel_threads([&](std::size_t thread, std::size_t threads) {
            const std::size_t shares = std::min(threads, most);
            if (thread >= shares) return;
            const cpu::Share share = cpu::share_of(batch, thread, shares);
            f(share.begin, share.end - share.begin);
        });
    }

    // One thread, index order: the same sum on every machine.
    template <class F>
    double transform_sum(std::size_t n, F f) const {
        double sum = 0.0;
        for (std::size_t i = 0; i < n; ++i) sum += f(i);
        return sum;
    }

    // Split by columns, so that every sum runs in row order whatever the
    // thread count.
    void column_sums(const float* x, std::size_t rows, std::size_t cols, float* out,
                     float beta = 0.0f) const {
        cpu::parallel_for(cols, cpu::parallel_grain / std::max<std::size_t>(rows, 1) + 1,
                          [=](std::size_t first, std::size_t last) {
            if (beta == 0.0f) std::fill(out + first, out + last, 0.0f);
            for (std::size_t r = 0; r < rows; ++r) {
                const float* row = x + r * cols;
                for (std::size_t c = first; c < last; ++c) out[c] += row[c];
            }
        });
    }

    void axpy(std::size_t n, float alpha, const float* x, float* y) const {
        cpu::parallel_for(n, cpu::parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) y[i] += alpha * x[i];
        });
    }

    void fill(float* x, std::size_t n, float value) const { std::fill_n(x, n, value); }
    void copy(const float* from, float* to, std::size_t n) const {
        if (from != to) std::copy_n(from, n, to);
    }
    // Device memory is host memory: a transfer is a copy, or nothing.
    void to_device(const float* host, float* device, std::size_t n) const { copy(host, device, n); }
    void to_host(const float* device, float* host, std::size_t n) const { copy(device, host, n); }

    // The fast path for convolutions: each thread takes a share of the batch
    // and runs it in cache-sized chunks (backend/cpu/convolution.hpp).
    template <class Geometry>
    std::size_t convolution_workspace() const {
        return cpu::ChunkedConvolution<Geometry>::workspace_size();
    }
    template <class Geometry, class Sink>
    void convolve(const float* kernel, const float* x, float* y, std::size_t batch,
                  float* workspace, const Sink& sink) const {
        cpu::ChunkedConvolution<Geometry>::forward(*this, kernel, x, y, batch, workspace, sink,
                                                   direct_convolutions());
    }
    template <class Geometry, class Sink>
    void convolve_backward(const float* kernel, const float* x, const float* y, const float* dy,
                           float* dx, float* kernel_gradient, float* bias_gradient,
                           std::size_t batch, float* workspace, const Sink& sink) const {
        cpu::ChunkedConvolution<Geometry>::backward(*this, kernel, x, y, dy, dx, kernel_gradient,
                                                    bias_gradient, batch, workspace, sink,
                                                    direct_convolutions());
    }

private:
    // The direct kernels multiply in float; bf16 products go through the GEMM.
    bool direct_convolutions() const { return precision_ == Precision::fp32 && cpu::direct::switched_on(); }

    Precision precision_ = Precision::fp32;
};

static_assert(Backend<Cpu>);

} // namespace ctnn::backend
