// The backends every test runs on: TEST_CASE_TEMPLATE("...", Backend, CTNN_TEST_BACKENDS).
// A backend added to ctnn joins the list here. ThrustHost (the GPU backend's
// kernels on OpenMP) is there when the build found Thrust's headers
// (CTNN_TEST_THRUST, set by tests/CMakeLists.txt).
#pragma once

#include <cstddef>
#include <string_view>

#include <ctnn/backend/cpu/backend.hpp>
#if defined(CTNN_TEST_THRUST)
#include <ctnn/backend/thrust/host.hpp>
#endif

namespace ctnn::testing {

// The CPU backend with only what the Backend concept lists: no fast paths,
// so the layers take the generic route that every other backend takes, and
// the tests check it.
class Portable {
public:
    static constexpr std::string_view name = "portable";
    static constexpr bool host_memory = true;
    template <class T>
    using buffer = backend::Cpu::buffer<T>;

    void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
              const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
              std::size_t ldc) const {
        cpu_.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k,
                              float alpha, const float* a, std::size_t lda, std::size_t stride_a,
                              const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                              float* c, std::size_t ldc, std::size_t stride_c, std::size_t count) const {
        cpu_.gemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
                                  ldc, stride_c, count);
    }
    template <class F>
    void for_each(std::size_t n, F f, std::size_t cost = 1) const {
        cpu_.for_each(n, f, cost);
    }
    template <class F>
    double transform_sum(std::size_t n, F f) const {
        return cpu_.transform_sum(n, f);
    }
    void column_sums(const float* x, std::size_t rows, std::size_t cols, float* out, float beta = 0.0f) const {
        cpu_.column_sums(x, rows, cols, out, beta);
    }
    void axpy(std::size_t n, float alpha, const float* x, float* y) const { cpu_.axpy(n, alpha, x, y); }
    void fill(float* x, std::size_t n, float value) const { cpu_.fill(x, n, value); }
    void copy(const float* from, float* to, std::size_t n) const { cpu_.copy(from, to, n); }
    void to_device(const float* host, float* device, std::size_t n) const { cpu_.to_device(host, device, n); }
    void to_host(const float* device, float* host, std::size_t n) const { cpu_.to_host(device, host, n); }

private:
    backend::Cpu cpu_;
};

static_assert(Backend<Portable>);

} // namespace ctnn::testing

#if defined(CTNN_TEST_THRUST)
#define CTNN_TEST_BACKENDS ctnn::backend::Cpu, ctnn::testing::Portable, ctnn::backend::ThrustHost
#else
#define CTNN_TEST_BACKENDS ctnn::backend::Cpu, ctnn::testing::Portable
#endif
