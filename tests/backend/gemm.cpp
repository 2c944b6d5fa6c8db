// The backends' GEMMs against plain loops, and the CPU backend's two GEMM
// paths (OpenBLAS, and its small-batch kernel) against each other.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>
#include <ctnn/core/random.hpp>

#include "support/backends.hpp"

namespace backend_gemm_test {

using ctnn::Trans;

// A (m x k) and B (k x n) stored as op(A) and op(B) expect: transposed when asked.
struct Operands {
    std::vector<float> a, b;
    std::size_t lda, ldb;
};

Operands stored(const std::vector<float>& a, const std::vector<float>& b, std::size_t m,
                std::size_t n, std::size_t k, Trans ta, Trans tb) {
    const bool transpose_a = ta == Trans::yes, transpose_b = tb == Trans::yes;
    Operands o{std::vector<float>(a.size()), std::vector<float>(b.size()), transpose_a ? m : k,
               transpose_b ? k : n};
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t p = 0; p < k; ++p) o.a[transpose_a ? p * m + i : i * k + p] = a[i * k + p];
    for (std::size_t p = 0; p < k; ++p)
        for (std::size_t j = 0; j < n; ++j) o.b[transpose_b ? j * k + p : p * n + j] = b[p * n + j];
    return o;
}

// alpha A B + beta C for C filled with c0.
double expected_at(const std::vector<float>& a, const std::vector<float>& b, std::size_t n,
                   std::size_t k, std::size_t i, std::size_t j, float alpha, float beta, float c0) {
    double sum = double(beta) * c0;
    for (std::size_t p = 0; p < k; ++p) sum += double(alpha) * a[i * k + p] * b[p * n + j];
    return sum;
}

TEST_CASE("OpenBLAS: report the kernel in use; never the slow fallback on an AVX-512 CPU") {
    const auto& blas = ctnn::backend::cpu::blas_info();
    MESSAGE("OpenBLAS kernel: ", blas.core, " (", blas.threading, ", ", blas.threads,
            " threads) from ", blas.library,
            std::string(blas.core_forced ? ", OPENBLAS_CORETYPE set by ctnn" : ""));
    // A kernel the user chose (OPENBLAS_CORETYPE in the environment) is theirs.
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr && !blas.core_forced) {
        MESSAGE("OPENBLAS_CORETYPE=", std::getenv("OPENBLAS_CORETYPE"), " was set before ctnn loaded OpenBLAS");
        return;
    }
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        const std::string fast[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
        CHECK((blas.core == fast[0] || blas.core == fast[1] || blas.core == fast[2]));
    }
}

TEST_CASE_TEMPLATE("gemm: row-major, every transpose combination, matches a plain loop", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    // Five rows with beta 0.5 go to OpenBLAS on the CPU; two rows with beta 0
    // and no transposes take its small-batch kernel.
    for (auto [m, beta] : {std::pair{std::size_t{5}, 0.5f}, std::pair{std::size_t{2}, 0.0f}}) {
        const std::size_t n = 4, k = 3;
        std::vector<float> a(m * k), b(k * n);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) - 3.0f;
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(i % 5) * 0.5f - 1.0f;
        for (Trans ta : {Trans::no, Trans::yes}) {
            for (Trans tb : {Trans::no, Trans::yes}) {
                CAPTURE(m);
                CAPTURE(ta == Trans::yes);
                CAPTURE(tb == Trans::yes);
                const Operands o = stored(a, b, m, n, k, ta, tb);
                std::vector<float> c(m * n, 1.0f);
                backend.gemm(ta, tb, m, n, k, 2.0f, o.a.data(), o.lda, o.b.data(), o.ldb, beta,
                             c.data(), n);
                for (std::size_t i = 0; i < m; ++i)
                    for (std::size_t j = 0; j < n; ++j)
                        CHECK(c[i * n + j] ==
                              doctest::Approx(expected_at(a, b, n, k, i, j, 2.0f, beta, 1.0f)));
            }
        }
    }
}

TEST_CASE_TEMPLATE("gemm_strided_batched: each product at its strides, the gaps untouched", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const std::size_t m = 3, n = 2, k = 4, count = 3;
    // Strides one float past each operand, so that a product that ran over
    // its own operand would read or write the gap.
    const std::size_t stride_a = m * k + 1, stride_b = k * n + 1, stride_c = m * n + 1;
    ctnn::Rng rng(5);
    std::vector<float> a(count * stride_a), b(count * stride_b), c(count * stride_c, -9.0f);
    for (float& v : a) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : b) v = rng.uniform(-1.0f, 1.0f);
    for (Trans tb : {Trans::no, Trans::yes}) {
        CAPTURE(tb == Trans::yes);
        std::fill(c.begin(), c.end(), -9.0f);
        for (std::size_t i = 0; i < count; ++i)
            std::fill_n(c.begin() + std::ptrdiff_t(i * stride_c), m * n, 1.0f);
        backend.gemm_strided_batched(Trans::no, tb, m, n, k, 1.5f, a.data(), k, stride_a, b.data(),
                                     tb == Trans::yes ? k : n, stride_b, 0.25f, c.data(), n,
                                     stride_c, count);
        for (std::size_t q = 0; q < count; ++q) {
            CAPTURE(q);
            // op(B) as a plain k x n matrix.
            std::vector<float> a_q(a.begin() + std::ptrdiff_t(q * stride_a),
                                   a.begin() + std::ptrdiff_t(q * stride_a + m * k));
            std::vector<float> b_q(k * n);
            for (std::size_t p = 0; p < k; ++p)
                for (std::size_t j = 0; j < n; ++j)
                    b_q[p * n + j] = b[q * stride_b + (tb == Trans::yes ? j * k + p : p * n + j)];
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j)
                    CHECK(c[q * stride_c + i * n + j] ==
                          doctest::Approx(expected_at(a_q, b_q, n, k, i, j, 1.5f, 0.25f, 1.0f)));
            CHECK(c[q * stride_c + m * n] == -9.0f);
        }
    }
}

TEST_CASE("small-batch GEMM (batch-1 inference) agrees with OpenBLAS for every width") {
    ctnn::Rng rng(12);
    for (std::size_t m : {1, 2, 4}) {
        // Around one vector (8 floats on AVX2, 16 on AVX-512) and one chunk
        // of accumulators (96 and 256 columns).
        for (std::size_t n :
             {1, 5, 7, 8, 9, 10, 15, 16, 17, 33, 64, 95, 96, 97, 250, 255, 256, 257, 300, 600}) {
            for (std::size_t k : {1, 7, 784}) {
                std::vector<float> a(m * k), b(k * n), expected(m * n), got(m * n, -1.0f);
                for (float& v : a) v = rng.uniform() < 0.3f ? 0.0f : rng.uniform(-1.0f, 1.0f);
                for (float& v : b) v = rng.uniform(-1.0f, 1.0f);
                ctnn::backend::cpu::OpenBlas::instance().sgemm(
                    false, false, int(m), int(n), int(k), 0.5f, a.data(), int(k), b.data(), int(n),
                    0.0f, expected.data(), int(n));
                ctnn::backend::cpu::small_gemm(m, n, k, 0.5f, a.data(), k, b.data(), n, got.data(),
                                               n);
                for (std::size_t i = 0; i < m * n; ++i) {
                    INFO("m=", m, " n=", n, " k=", k, " element ", i);
                    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-4).scale(1.0));
                }
            }
        }
    }
}

} // namespace backend_gemm_test
