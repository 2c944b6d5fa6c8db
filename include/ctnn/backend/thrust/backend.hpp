// Thrust<System>: the Backend concept (core/backend.hpp) over Thrust
// algorithms. Every loop a layer hands the backend runs as
// thrust::for_each_n over counting indices, so one set of CTNN_HOST_DEVICE
// functors is a CUDA kernel under nvcc and an OpenMP loop under g++.
//
// System supplies what Thrust does not:
//   name                          for messages
//   memory                        allocation and copies (thrust/buffer.hpp)
//   staging_memory                host memory to gather batches in (pinned on CUDA)
//   launch(n, f)                  f(i) for i in [0, n), as thrust::for_each_n
//   gemm(), gemm_strided_batched() as the concept states them
//   to_device(), to_host(), copy() transfers in bytes; to_host returns when
//                                 the host can read the result
//   to_host_async(), synchronize() a copy to the host in stream order, and
//                                 the wait after which the host reads it
//   capture(record), graph         record() run under capture: its work,
//                                 recorded once, replays with graph::launch()
//   make_marker(), marker          a point in the stream to wait for
// Two systems exist: ThrustHost (backend/thrust/host.hpp: OpenMP, OpenBLAS),
// which runs every kernel's logic in CI, and Cuda (backend/cuda/backend.hpp:
// device memory, cuBLAS, one stream).
//
// Neither backend's memory is read by the host directly (host_memory is
// false, also for ThrustHost, whose memory is host memory): the library's
// explicit transfers then run in CI exactly as they run on a GPU.
#pragma once

#if !defined(__CUDACC__) && !defined(THRUST_DEVICE_SYSTEM)
// A host compiler cannot build Thrust's CUDA system; its device system is
// then OpenMP. Only the explicit policies below are used either way.
#define THRUST_DEVICE_SYSTEM THRUST_DEVICE_SYSTEM_OMP
#endif

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/backend/thrust/buffer.hpp"
#include "ctnn/core/backend.hpp"
#include "ctnn/core/config.hpp"

namespace ctnn::backend {

namespace thrust_backend {

// How many indices one partial sum covers in transform_sum. Fixed, so that
// the grouping (and the rounding) is the same for every thread count and on
// every device.
inline constexpr std::size_t sum_block = 512;

// f(i) for i in [0, n) under a Thrust policy: what every system's launch()
// runs.
template <class Policy, class F>
void for_each_index(const Policy& policy, std::size_t n, const F& f) {
    thrust::for_each_n(policy, thrust::counting_iterator<std::size_t>(0), n, f);
}

// partial[b] = f(b * sum_block) + ... in index order, in double.
template <class F>
struct BlockSum {
    F f;
    std::size_t n;
    double* partial;
    CTNN_HOST_DEVICE void operator()(std::size_t block) const {
        const std::size_t first = block * sum_block;
        const std::size_t last = first + sum_block < n ? first + sum_block : n;
        double sum = 0.0;
        for (std::size_t i = first; i < last; ++i) sum += f(i);
        partial[block] = sum;
    }
};

// *total += scale * (partial[0] + partial[1] + ...), in order, by one thread.
struct AddPartials {
    const double* partial;
    std::size_t blocks;
    double scale;
    double* total;
    CTNN_HOST_DEVICE void operator()(std::size_t) const {
        double sum = 0.0;
        for (std::size_t b = 0; b < blocks; ++b) sum += partial[b];
        *total += scale * sum;
    }
};

// out[c] = beta out[c] + sum_r x[r][c], each column in row order.
struct ColumnSum {
    const float* x;
    std::size_t rows, cols;
    float* out;
    float beta;
    CTNN_HOST_DEVICE void operator()(std::size_t c) const {
        float sum = beta == 0.0f ? 0.0f : out[c];
        for (std::size_t r = 0; r < rows; ++r) sum += x[r * cols + c];
        out[c] = sum;
    }
};

struct Axpy {
    float alpha;
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { y[i] += alpha * x[i]; }
};

struct Fill {
    float* x;
    float value;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { x[i] = value; }
};

// transform_sum's partial sums: device memory for them and a host copy,
// grown on demand. A copied backend starts with none of its own, so that two
// networks never share one.
template <class Memory>
struct SumScratch {
    DeviceBuffer<double, Memory> device;
    std::vector<double> host;
    SumScratch() = default;
    SumScratch(const SumScratch&) {}
    SumScratch& operator=(const SumScratch&) { return *this; }
};

} // namespace thrust_backend

template <class System>
class Thrust {
public:
    static constexpr std::string_view name = System::name;
    static constexpr bool host_memory = false;

    template <class T>
    using buffer = thrust_backend::DeviceBuffer<T, typename System::memory>;
    // Host memory that batches are gathered in (pinned on CUDA).
    template <class T>
    using host_buffer = thrust_backend::DeviceBuffer<T, typename System::staging_memory>;

    Thrust() = default;
    explicit Thrust(System system) : system_(std::move(system)) {}

    const System& system() const { return system_; }

    // Whether p points into this backend's memory, where the system can tell
    // (CUDA can; ThrustHost's memory is host memory).
    bool holds(const void* p) const
        requires requires(const System& s) { s.is_device_memory(p); }
    {
        return system_.is_device_memory(p);
    }

    void gemm(Trans transpose_a, Trans transpose_b, std::size_t m, std::size_t n, std::size_t k,
              float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
              float beta, float* c, std::size_t ldc) const {
        if (m == 0 || n == 0) return;
        system_.gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    void gemm_strided_batched(Trans transpose_a, Trans transpose_b, std::size_t m, std::size_t n,
                              std::size_t k, float alpha, const float* a, std::size_t lda,
                              std::size_t stride_a, const float* b, std::size_t ldb,
                              std::size_t stride_b, float beta, float* c, std::size_t ldc,
                              std::size_t stride_c, std::size_t count) const {
        if (m == 0 || n == 0 || count == 0) return;
        system_.gemm_strided_batched(transpose_a, transpose_b, m, n, k, alpha, a, lda, stride_a, b,
                                     ldb, stride_b, beta, c, ldc, stride_c, count);
    }

    // One index per Thrust element; `cost` is for backends that chunk by
    // hand, Thrust's schedulers balance on their own.
    template <class F>
    void for_each(std::size_t n, F f, std::size_t /*cost*/ = 1) const {
        if (n != 0) system_.launch(n, f);
    }

    // Partial sums of sum_block consecutive indices on the device, then their
    // sum in order on the host: the same grouping whatever runs the blocks.
    // It differs from the CPU backend's single sequential sum only in
    // rounding.
    template <class F>
    double transform_sum(std::size_t n, F f) const {
        if (n == 0) return 0.0;
        const std::size_t blocks = block_sums(n, f);
        auto& scratch = sums_;
        scratch.host.resize(blocks);
        system_.to_host(scratch.device.data(), scratch.host.data(), blocks * sizeof(double));
        double sum = 0.0;
        for (double partial : scratch.host) sum += partial;
        return sum;
    }

    // *total += scale * the sum of f over [0, n), on the device and in stream
    // order, so nothing waits (what a captured step sums its loss with); the
    // same blocks and order as transform_sum.
    template <class F>
    void accumulate_sum(std::size_t n, F f, double* total, double scale = 1.0) const {
        if (n == 0) return;
        const std::size_t blocks = block_sums(n, f);
        for_each(1, thrust_backend::AddPartials{sums_.device.data(), blocks, scale, total});
    }

    void column_sums(const float* x, std::size_t rows, std::size_t cols, float* out,
                     float beta = 0.0f) const {
        for_each(cols, thrust_backend::ColumnSum{x, rows, cols, out, beta});
    }

    void axpy(std::size_t n, float alpha, const float* x, float* y) const {
        for_each(n, thrust_backend::Axpy{alpha, x, y});
    }
    void fill(float* x, std::size_t n, float value) const {
        for_each(n, thrust_backend::Fill{x, value});
    }
    void copy(const float* from, float* to, std::size_t n) const {
        if (from != to && n != 0) system_.copy(from, to, n * sizeof(float));
    }
    void to_device(const float* host, float* device, std::size_t n) const {
        if (n != 0) system_.to_device(host, device, n * sizeof(float));
    }
    void to_host(const float* device, float* host, std::size_t n) const {
        if (n != 0) system_.to_host(device, host, n * sizeof(float));
    }

    // CapturesGraphs (core/backend.hpp): the work record() issues, captured
    // once (nothing runs while it is recorded) and replayed by launch() with
    // the arguments it was issued with; a copy to the host that waits, an
    // allocation or a wait inside it is refused.
    using graph = typename System::graph;
    template <class Record>
    graph capture(Record&& record) const {
        return system_.capture(std::forward<Record>(record));
    }
    // A copy to the host in stream order: read `host` after synchronize().
    void to_host_async(const float* device, float* host, std::size_t n) const {
        if (n != 0) system_.to_host_async(device, host, n * sizeof(float));
    }
    void synchronize() const { system_.synchronize(); }
    // marker.record() marks the work issued so far; marker.wait() returns
    // once it has run (the host then rewrites what that work read).
    using marker = typename System::marker;
    marker make_marker() const { return system_.make_marker(); }

private:
    // The partial sums of sum_block indices each, in sums_.device; returns
    // how many.
    template <class F>
    std::size_t block_sums(std::size_t n, const F& f) const {
        const std::size_t blocks = (n + thrust_backend::sum_block - 1) / thrust_backend::sum_block;
        if (sums_.device.size() < blocks) sums_.device.resize(blocks);
        for_each(blocks, thrust_backend::BlockSum<F>{f, n, sums_.device.data()});
        return blocks;
    }

    System system_;
    mutable thrust_backend::SumScratch<typename System::memory> sums_;
};

} // namespace ctnn::backend
