// ctnn::backend::ThrustHost: the Thrust backend on Thrust's OpenMP system,
// built by the host compiler, GEMM through OpenBLAS. It runs every device
// kernel's logic (the functors the CUDA backend launches) on a machine
// without a GPU, so CI tests it: Net::on<ctnn::backend::ThrustHost>.
//
// Needs Thrust's headers (CUDA's CCCL, or Debian's libthrust-dev) and OpenMP:
// link ctnn::thrust, which finds them.
#pragma once

#include "ctnn/backend/thrust/backend.hpp"

#include <thrust/system/omp/execution_policy.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "ctnn/backend/cpu/backend.hpp"

namespace ctnn::backend {

namespace thrust_backend {

// Host memory, cache-line aligned, handled as if it were a device's.
struct HostMemory {
    static constexpr std::size_t alignment = 64;
    static void* allocate(std::size_t bytes) {
        void* p = ::operator new(bytes, std::align_val_t{alignment}, std::nothrow);
        if (p == nullptr)
            throw ctnn::AllocationError("ctnn: ThrustHost: allocating " + std::to_string(bytes) +
                                  " bytes of host memory failed");
        return p;
    }
    static void deallocate(void* p) noexcept {
        if (p != nullptr) ::operator delete(p, std::align_val_t{alignment});
    }
    static void copy(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
};

struct OmpSystem {
    static constexpr std::string_view name = "Thrust (OpenMP)";
    using memory = HostMemory;
    using staging_memory = HostMemory;

    auto policy() const { return thrust::omp::par; }

    void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
              const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
              std::size_t ldc) const {
        blas_.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k,
                              float alpha, const float* a, std::size_t lda, std::size_t stride_a,
                              const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                              float* c, std::size_t ldc, std::size_t stride_c,
                              std::size_t count) const {
        blas_.gemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta,
                                   c, ldc, stride_c, count);
    }

    void to_device(const void* host, void* device, std::size_t bytes) const {
        std::memcpy(device, host, bytes);
    }
    void to_host(const void* device, void* host, std::size_t bytes) const {
        std::memcpy(host, device, bytes);
    }
    void copy(const void* from, void* to, std::size_t bytes) const { std::memcpy(to, from, bytes); }

private:
    // OpenBLAS (and its small-product kernel), as on the CPU backend.
    Cpu blas_;
};

} // namespace thrust_backend

using ThrustHost = Thrust<thrust_backend::OmpSystem>;
static_assert(Backend<ThrustHost>);

} // namespace ctnn::backend
