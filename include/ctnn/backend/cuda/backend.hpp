// ctnn::backend::Cuda: the Thrust backend on Thrust's CUDA system. Device
// memory, one stream per network (every kernel, copy and GEMM in stream order,
// Thrust launching with par_nosync), GEMM through cuBLAS. Compile with nvcc
// and link ctnn::cuda: Net::on<ctnn::backend::Cuda>.
//
// The kernels themselves are the functors the layers hand to for_each, the
// same ones ThrustHost (backend/thrust/host.hpp) runs in CI; what is here is
// the part only a GPU runs: allocation, transfers, cuBLAS.
#pragma once

#if !defined(__CUDACC__)
#error "ctnn/backend/cuda/backend.hpp needs nvcc: compile this source as CUDA (ctnn::cuda); ctnn::backend::ThrustHost runs the same kernels with a host compiler"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ctnn/backend/cuda/error.hpp"
#include "ctnn/backend/thrust/backend.hpp"

namespace ctnn::backend {

namespace cuda {

inline std::string bytes(std::size_t n) { return std::to_string(n) + " bytes"; }

// How many CUDA devices this process sees (0 without a driver or device), and
// why there are none.
inline int device_count(std::string* why_none = nullptr) {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        if (why_none) *why_none = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
        cudaGetLastError();  // clear it: the next call should not see it
        return 0;
    }
    if (count == 0 && why_none) *why_none = "no CUDA device is present";
    return count;
}

// Memory from cudaMalloc or cudaMallocHost: a failure throws AllocationError
// naming the call, the size and the device's free memory.
template <cudaError_t (*Allocate)(void**, std::size_t)>
void* allocate_or_throw(const char* call, std::size_t n) {
    void* p = nullptr;
    const cudaError_t status = Allocate(&p, n);
    if (status != cudaSuccess) {
        cudaGetLastError();
        std::size_t free = 0, total = 0;
        cudaMemGetInfo(&free, &total);
        throw ctnn::AllocationError("ctnn: CUDA: " + std::string(call) + "(" + bytes(n) + ") failed: " +
                                    cudaGetErrorString(status) + " (" + bytes(free) + " free of " +
                                    bytes(total) + " on the device)");
    }
    return p;
}
inline cudaError_t device_malloc(void** p, std::size_t n) { return cudaMalloc(p, n); }
inline cudaError_t pinned_malloc(void** p, std::size_t n) { return cudaMallocHost(p, n); }

struct DeviceMemory {
    static void* allocate(std::size_t n) { return allocate_or_throw<device_malloc>("cudaMalloc", n); }
    static void deallocate(void* p) noexcept {
        if (p != nullptr) cudaFree(p);
    }
    static void copy(void* to, const void* from, std::size_t n) {
        check(cudaMemcpy(to, from, n, cudaMemcpyDeviceToDevice),
              [&] { return "cudaMemcpy(" + bytes(n) + ", device to device)"; });
    }
};

// Page-locked host memory, where fit gathers each batch: a copy from it runs
// asynchronously on the stream (from pageable memory the driver first copies
// synchronously). fit rewrites it only after the step that read it has read
// its loss back, which waits for the stream.
struct PinnedMemory {
    static void* allocate(std::size_t n) { return allocate_or_throw<pinned_malloc>("cudaMallocHost", n); }
    static void deallocate(void* p) noexcept {
        if (p != nullptr) cudaFreeHost(p);
    }
    static void copy(void* to, const void* from, std::size_t n) { std::memcpy(to, from, n); }
};

// The stream and the cuBLAS handle, shared by the copies of one backend. The
// stream is a blocking one, so that the legacy default stream (buffer copies,
// cudaFree) stays ordered with it.
class Device {
public:
    Device() {
        std::string why;
        if (device_count(&why) == 0) throw Error("ctnn: CUDA backend: " + why);
        check(cudaGetDevice(&ordinal), "cudaGetDevice");
        check(cudaStreamCreate(&stream), "cudaStreamCreate");
        check(cublasCreate(&blas), "cublasCreate");
        check(cublasSetStream(blas, stream), "cublasSetStream");
        // A workspace of its own, so that cuBLAS allocates nothing inside a
        // captured graph (as PyTorch gives every handle one).
        workspace = allocate_or_throw<device_malloc>("cudaMalloc", workspace_bytes);
        check(cublasSetWorkspace(blas, workspace, workspace_bytes), "cublasSetWorkspace");
    }
    ~Device() {
        cublasDestroy(blas);
        cudaFree(workspace);
        cudaStreamDestroy(stream);
    }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    static constexpr std::size_t workspace_bytes = std::size_t{32} << 20;
    int ordinal = 0;
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    void* workspace = nullptr;
};

// A captured stream's work, instantiated once: launch() replays every kernel,
// GEMM and copy with one call, in stream order.
class Graph {
public:
    Graph(std::shared_ptr<Device> device, cudaGraph_t graph) : device_(std::move(device)), graph_(graph) {
        cudaGraphExec_t exec = nullptr;
        check(cudaGraphInstantiate(&exec, graph_.get(), 0), "cudaGraphInstantiate");
        exec_.reset(exec);
    }
    void launch() const { check(cudaGraphLaunch(exec_.get(), device_->stream), "cudaGraphLaunch"); }
    std::size_t nodes() const {
        std::size_t count = 0;
        check(cudaGraphGetNodes(graph_.get(), nullptr, &count), "cudaGraphGetNodes");
        return count;
    }

private:
    struct DestroyGraph {
        void operator()(cudaGraph_t g) const noexcept { cudaGraphDestroy(g); }
    };
    struct DestroyExec {
        void operator()(cudaGraphExec_t e) const noexcept { cudaGraphExecDestroy(e); }
    };
    std::shared_ptr<Device> device_;
    std::unique_ptr<std::remove_pointer_t<cudaGraph_t>, DestroyGraph> graph_;
    std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, DestroyExec> exec_;
};

// An event on the stream: record() marks the work issued so far, wait()
// returns once it has run.
class Marker {
public:
    explicit Marker(std::shared_ptr<Device> device) : device_(std::move(device)) {
        cudaEvent_t event = nullptr;
        check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
        event_.reset(event);
    }
    void record() const { check(cudaEventRecord(event_.get(), device_->stream), "cudaEventRecord"); }
    void wait() const { check(cudaEventSynchronize(event_.get()), "cudaEventSynchronize"); }

private:
    struct DestroyEvent {
        void operator()(cudaEvent_t e) const noexcept { cudaEventDestroy(e); }
    };
    std::shared_ptr<Device> device_;
    std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, DestroyEvent> event_;
};

class System {
public:
    static constexpr std::string_view name = "CUDA";
    using memory = DeviceMemory;
    using staging_memory = PinnedMemory;
    using graph = Graph;
    using marker = Marker;
    Marker make_marker() const { return Marker(device_); }

    System() : device_(std::make_shared<Device>()) {}

    auto policy() const { return thrust::cuda::par_nosync.on(device_->stream); }
    template <class F>
    void launch(std::size_t n, const F& f) const {
        thrust_backend::for_each_index(policy(), n, f);
    }
    cudaStream_t stream() const { return device_->stream; }
    std::string device_name() const {
        cudaDeviceProp properties{};
        check(cudaGetDeviceProperties(&properties, device_->ordinal), "cudaGetDeviceProperties");
        return properties.name;
    }

    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS
    // gets the operands swapped and m, n exchanged.
    void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
              const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
              std::size_t ldc) const {
        check(cublasSgemm(device_->blas, op(tb), op(ta), int(n), int(m), int(k), &alpha, b, int(ldb),
                          a, int(lda), &beta, c, int(ldc)),
              [&] {
                  return "cublasSgemm(m=" + std::to_string(m) + ", n=" + std::to_string(n) +
                         ", k=" + std::to_string(k) + ")";
              });
    }
    void gemm_strided_batched(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k,
                              float alpha, const float* a, std::size_t lda, std::size_t stride_a,
                              const float* b, std::size_t ldb, std::size_t stride_b, float beta,
                              float* c, std::size_t ldc, std::size_t stride_c,
                              std::size_t count) const {
        check(cublasSgemmStridedBatched(device_->blas, op(tb), op(ta), int(n), int(m), int(k), &alpha,
                                        b, int(ldb), (long long)stride_b, a, int(lda),
                                        (long long)stride_a, &beta, c, int(ldc),
                                        (long long)stride_c, int(count)),
              [&] {
                  return "cublasSgemmStridedBatched(m=" + std::to_string(m) + ", n=" + std::to_string(n) +
                         ", k=" + std::to_string(k) + ", count=" + std::to_string(count) + ")";
              });
    }

    bool is_device_memory(const void* p) const {
        cudaPointerAttributes attributes{};
        if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
            cudaGetLastError();
            return false;
        }
        return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
    }

    // Host to device in stream order; from pageable memory the call returns
    // once the source is staged, so the caller may reuse it at once.
    void to_device(const void* host, void* device, std::size_t n) const {
        check(cudaMemcpyAsync(device, host, n, cudaMemcpyHostToDevice, device_->stream),
              [&] { return "cudaMemcpyAsync(" + bytes(n) + ", host to device)"; });
    }
    // Waits for the stream: a kernel's failure since the last wait shows here.
    void to_host(const void* device, void* host, std::size_t n) const {
        check(cudaMemcpyAsync(host, device, n, cudaMemcpyDeviceToHost, device_->stream),
              [&] { return "cudaMemcpyAsync(" + bytes(n) + ", device to host)"; });
        synchronize([&] { return "after copying " + bytes(n) + " to the host"; });
    }
    void to_host_async(const void* device, void* host, std::size_t n) const {
        check(cudaMemcpyAsync(host, device, n, cudaMemcpyDeviceToHost, device_->stream),
              [&] { return "cudaMemcpyAsync(" + bytes(n) + ", device to host)"; });
    }
    void copy(const void* from, void* to, std::size_t n) const {
        check(cudaMemcpyAsync(to, from, n, cudaMemcpyDeviceToDevice, device_->stream),
              [&] { return "cudaMemcpyAsync(" + bytes(n) + ", device to device)"; });
    }

    // The stream's work from record(), captured (thread-local mode: another
    // thread's CUDA calls are not disturbed) and instantiated. A call that
    // cannot be captured (an allocation, a wait) fails inside record().
    template <class Record>
    Graph capture(Record&& record) const {
        check(cudaStreamBeginCapture(device_->stream, cudaStreamCaptureModeThreadLocal),
              "cudaStreamBeginCapture");
        cudaGraph_t graph = nullptr;
        try {
            std::forward<Record>(record)();
        } catch (...) {
            cudaStreamEndCapture(device_->stream, &graph);
            if (graph != nullptr) cudaGraphDestroy(graph);
            cudaGetLastError();
            throw;
        }
        check(cudaStreamEndCapture(device_->stream, &graph),
              "cudaStreamEndCapture (a call inside the capture was not capturable)");
        return Graph(device_, graph);
    }
    void synchronize() const { synchronize("after the stream's work"); }
    // `when` as check's `what`: a string or a function returning one.
    template <class When>
    void synchronize(const When& when) const {
        check(cudaStreamSynchronize(device_->stream), [&] { return "cudaStreamSynchronize " + describe(when); });
        check(cudaGetLastError(), [&] { return "a kernel launch " + describe(when); });
    }

private:
    static cublasOperation_t op(Trans t) { return t == Trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N; }

    std::shared_ptr<Device> device_;
};

} // namespace cuda

using Cuda = Thrust<cuda::System>;
static_assert(Backend<Cuda>);

} // namespace ctnn::backend
