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
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/backend/cpu/backend.hpp"

namespace ctnn::backend {

namespace thrust_backend {

// What ThrustHost's capture() records: each kernel, GEMM and copy as a
// closure over the arguments it was issued with, as a CUDA graph records its
// nodes. launch() runs them in order with those arguments, so a capture that
// bakes in a value meant to change from call to call (a step counter, a
// learning rate) replays it unchanged here just as on a GPU, and CI sees it.
class RecordedGraph {
public:
    void launch() const {
        for (const auto& node : nodes_) node();
    }
    std::size_t nodes() const { return nodes_.size(); }
    void add(std::function<void()> node) { nodes_.push_back(std::move(node)); }

private:
    std::vector<std::function<void()>> nodes_;
};

// The graph this thread is recording into, if any.
inline thread_local RecordedGraph* recording = nullptr;

// What a CUDA stream capture would reject, refused the same way here.
[[noreturn]] inline void refuse_while_capturing(const std::string& what) {
    throw std::logic_error("ctnn: ThrustHost: " + what +
                           " inside capture(): a CUDA graph cannot hold it; do it before "
                           "capturing (reserve workspaces, read results after synchronize())");
}

// Host memory, cache-line aligned, handled as if it were a device's.
struct HostMemory {
    static constexpr std::size_t alignment = 64;
    static void* allocate(std::size_t bytes) {
        if (recording) refuse_while_capturing("allocating " + std::to_string(bytes) + " bytes");
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

    using graph = RecordedGraph;

    template <class F>
    void launch(std::size_t n, const F& f) const {
        run_or_record([n, f] { for_each_index(thrust::omp::par, n, f); });
    }

    void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
              const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
              std::size_t ldc) const {
        run_or_record([=, blas = blas_] { blas.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
    }
    void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k,
                              float alpha, const float* a, std::size_t lda, std::size_t stride_a,
                              const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                              float* c, std::size_t ldc, std::size_t stride_c,
                              std::size_t count) const {
        run_or_record([=, blas = blas_] {
            blas.gemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta,
                                      c, ldc, stride_c, count);
        });
    }

    // Recorded copies read their source when the graph runs, as a CUDA
    // graph's copy from pinned memory does.
    void to_device(const void* host, void* device, std::size_t bytes) const {
        run_or_record([=] { std::memcpy(device, host, bytes); });
    }
    void to_host(const void* device, void* host, std::size_t bytes) const {
        if (recording) refuse_while_capturing("a copy to the host that waits for the device");
        std::memcpy(host, device, bytes);
    }
    void to_host_async(const void* device, void* host, std::size_t bytes) const {
        run_or_record([=] { std::memcpy(host, device, bytes); });
    }
    void copy(const void* from, void* to, std::size_t bytes) const {
        run_or_record([=] { std::memcpy(to, from, bytes); });
    }
    // Every call has finished when it returns.
    void synchronize() const {
        if (recording) refuse_while_capturing("synchronize()");
    }

    // A point in the work issued so far, for the host to wait for (the copy
    // out of a staging buffer, before it is rewritten); here every call has
    // finished when it returns.
    struct Marker {
        void record() const {}
        void wait() const {}
    };
    using marker = Marker;
    Marker make_marker() const { return {}; }

    template <class Record>
    RecordedGraph capture(Record&& record) const {
        if (recording) throw std::logic_error("ctnn: ThrustHost: capture() inside capture()");
        RecordedGraph graph;
        recording = &graph;
        struct StopRecording {
            ~StopRecording() { recording = nullptr; }
        } stop;
        std::forward<Record>(record)();
        return graph;
    }

private:
    template <class Work>
    static void run_or_record(Work&& work) {
        if (recording)
            recording->add(std::forward<Work>(work));
        else
            work();
    }

    // OpenBLAS (and its small-product kernel), as on the CPU backend.
    Cpu blas_;
};

} // namespace thrust_backend

using ThrustHost = Thrust<thrust_backend::OmpSystem>;
static_assert(Backend<ThrustHost>);

} // namespace ctnn::backend
