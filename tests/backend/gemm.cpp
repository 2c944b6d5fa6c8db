#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>
#include <ctnn/core/random.hpp>

TEST_CASE("OpenBLAS: report the kernel in use; never the slow fallback on an AVX-512 CPU") {
    const auto& blas = ctnn::cpu::blas_info();
    MESSAGE("OpenBLAS kernel: ", blas.core, " (", blas.threading, ", ", blas.threads,
            " threads) from ", blas.library, std::string(blas.core_forced ? ", OPENBLAS_CORETYPE set by ctnn" : ""));
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        const std::string fast[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
        CHECK((blas.core == fast[0] || blas.core == fast[1] || blas.core == fast[2]));
    }
}

TEST_CASE("OpenBLAS: row-major sgemm with every transpose combination matches a plain loop") {
    const std::size_t m = 5, n = 4, k = 3;
    std::vector<float> a(m * k), b(k * n);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) - 3.0f;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(i % 5) * 0.5f - 1.0f;
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            // Stored transposed when asked, so op(A) and op(B) are the same matrices.
            std::vector<float> as(a.size()), bs(b.size());
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t p = 0; p < k; ++p) as[ta ? p * m + i : i * k + p] = a[i * k + p];
            for (std::size_t p = 0; p < k; ++p)
                for (std::size_t j = 0; j < n; ++j) bs[tb ? j * k + p : p * n + j] = b[p * n + j];
            std::vector<float> c(m * n, 1.0f);
            ctnn::backend::Cpu::gemm(ta, tb, m, n, k, 2.0f, as.data(), ta ? m : k, bs.data(),
                                     tb ? k : n, 0.5f, c.data(), n);
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    float expected = 0.5f;
                    for (std::size_t p = 0; p < k; ++p) expected += 2.0f * a[i * k + p] * b[p * n + j];
                    CHECK(c[i * n + j] == doctest::Approx(expected));
                }
        }
    }
}

TEST_CASE("small-batch GEMM (batch-1 inference) agrees with OpenBLAS for every width") {
    ctnn::Rng rng(12);
    for (std::size_t m : {1, 2, 4}) {
        for (std::size_t n : {1, 5, 10, 15, 16, 17, 33, 64, 250, 300, 600}) {
            for (std::size_t k : {1, 7, 784}) {
                std::vector<float> a(m * k), b(k * n), expected(m * n), got(m * n, -1.0f);
                for (float& v : a) v = rng.uniform() < 0.3f ? 0.0f : rng.uniform(-1.0f, 1.0f);
                for (float& v : b) v = rng.uniform(-1.0f, 1.0f);
                ctnn::cpu::OpenBlas::instance().sgemm(false, false, int(m), int(n), int(k), 0.5f,
                                                      a.data(), int(k), b.data(), int(n), 0.0f,
                                                      expected.data(), int(n));
                ctnn::cpu::small_gemm(m, n, k, 0.5f, a.data(), k, b.data(), n, got.data(), n);
                for (std::size_t i = 0; i < m * n; ++i) {
                    INFO("m=", m, " n=", n, " k=", k, " element ", i);
                    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-4).scale(1.0));
                }
            }
        }
    }
}
