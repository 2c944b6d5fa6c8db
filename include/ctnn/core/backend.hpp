// What a backend provides. Layers, losses and optimizers never loop over
// tensors themselves: they hand the backend a GEMM, a reduction, or a
// functor to run over n indices. A functor's call operator is marked
// CTNN_HOST_DEVICE and touches only the pointers it holds, so the same
// functor runs on CPU threads and as a GPU kernel.
//
// A backend is an object a network holds (it may own a device, a stream, a
// BLAS handle); every operation is a const member. Its buffers hold device
// memory; host_memory says whether the host can read that memory directly
// (the CPU backend), which saves the transfers.
//
// Random numbers need no backend support: dropout masks and noise are
// counter-based (core/random.hpp), so any thread or GPU lane computes element
// i's draw on its own, and every backend draws the same numbers.
//
// A backend may also offer fast paths the generic code looks for: the CPU
// backend's convolve() runs a convolution in per-thread, cache-sized chunks
// (backend/generic/convolution.hpp dispatches), and its split_rows() runs a
// recurrent layer's steps per thread on shares of the batch (for_row_shares
// below).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ctnn/core/config.hpp"

namespace ctnn {

// A failed allocation in a backend's memory: a std::bad_alloc whose message
// names the memory, the size and the cause (and, from a network, the call).
class AllocationError : public std::bad_alloc {
public:
    explicit AllocationError(std::string message) : message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

// Whether a GEMM operand is used as stored or transposed.
enum class Trans : bool { no = false, yes = true };

namespace detail {

// Stand-ins for the functors layers pass, to state the requirements.
struct IndexFunctor {
    CTNN_HOST_DEVICE void operator()(std::size_t) const {}
};
struct IndexValue {
    CTNN_HOST_DEVICE double operator()(std::size_t) const { return 0.0; }
};

} // namespace detail

// The operations, in the order a new backend would write them (the CPU
// backend, backend/cpu/backend.hpp, is the worked example):
template <class B>
concept Backend = requires(const B& backend, float* out, const float* in, std::size_t n,
                           float alpha) {
    // A name for messages, and whether its memory is host memory.
    { B::name } -> std::convertible_to<std::string_view>;
    { B::host_memory } -> std::convertible_to<bool>;
    // Device arrays: data() is a device pointer, resize() keeps nothing.
    typename B::template buffer<float>;
    typename B::template buffer<std::uint32_t>;
    // Row-major C = alpha op(A) op(B) + beta C, sizes as in BLAS, and the
    // same for `count` products whose operands lie `stride` floats apart.
    backend.gemm(Trans::no, Trans::no, n, n, n, alpha, in, n, in, n, alpha, out, n);
    backend.gemm_strided_batched(Trans::no, Trans::no, n, n, n, alpha, in, n, n, in, n, n, alpha,
                                 out, n, n, n);
    // f(i) for every i in [0, n), in any order and on any thread; `cost`
    // says roughly how many values one index touches.
    backend.for_each(n, detail::IndexFunctor{});
    backend.for_each(n, detail::IndexFunctor{}, n);
    // The sum of f(i) over [0, n) in double, in an order that does not
    // depend on the machine's thread count.
    { backend.transform_sum(n, detail::IndexValue{}) } -> std::same_as<double>;
    // Sums over the rows of a row-major matrix, out[c] = sum_r x[r][c] (bias
    // gradients); `beta` 1 adds to out instead of overwriting it.
    backend.column_sums(in, n, n, out, alpha);
    // y += alpha x; fills and copies on the device; transfers.
    backend.axpy(n, alpha, in, out);
    backend.fill(out, n, alpha);
    backend.copy(in, out, n);
    backend.to_device(in, out, n);
    backend.to_host(in, out, n);
};

// Work whose rows stay apart through a sequence of backend calls (a
// recurrent layer's steps): f(first, rows) over shares of [0, batch) of at
// least min_rows rows each. A backend with split_rows() runs each share on a
// thread of its own, whose backend calls then run on that thread alone, with
// no barrier between them (the CPU backend); any other runs f(0, batch). A
// row's results must not depend on the share it is in.
template <class B, class F>
void for_row_shares(const B& backend, std::size_t batch, std::size_t min_rows, F&& f) {
    if constexpr (requires { backend.split_rows(batch, min_rows, f); })
        backend.split_rows(batch, min_rows, f);
    else
        f(std::size_t{0}, batch);
}

// A backend that can record work once and replay it with one launch (CUDA
// graphs; ThrustHost records the same way, so CI runs the logic):
//   auto graph = backend.capture([&] { ...kernels, GEMMs, copies... });
//   graph.launch();                          // the same work, same arguments
//   backend.to_host_async(device, host, n);  // a copy a graph may hold
//   backend.synchronize();                   // after which the host reads it
//   backend.accumulate_sum(n, f, total, s);  // *total += s * sum of f(i), on
//                                            // the device (transform_sum waits)
//   auto m = backend.make_marker();          // m.record() marks the work issued
//                                            // so far, m.wait() waits for it
// Nothing inside a capture may allocate or wait for the device.
namespace detail {
struct NoWork {
    void operator()() const {}
};
} // namespace detail

template <class B>
concept CapturesGraphs = Backend<B> && requires(const B& backend, const typename B::graph& graph,
                                                const float* in, float* out, double* total,
                                                std::size_t n) {
    { backend.capture(detail::NoWork{}) } -> std::same_as<typename B::graph>;
    graph.launch();
    backend.to_host_async(in, out, n);
    backend.synchronize();
    backend.accumulate_sum(n, detail::IndexValue{}, total, 1.0);
    { backend.make_marker() } -> std::same_as<typename B::marker>;
    std::declval<const typename B::marker&>().record();
    std::declval<const typename B::marker&>().wait();
    typename B::template buffer<double>;
    typename B::template buffer<std::uint64_t>;
};

namespace detail {

// A backend that does nothing, standing in for one that failed its check so
// that the failed static_assert stays the only error.
struct StandInBackend {
    static constexpr std::string_view name = "stand-in";
    static constexpr bool host_memory = true;
    template <class T>
    struct buffer {
        T* data() { return nullptr; }
        const T* data() const { return nullptr; }
        std::size_t size() const { return 0; }
        void resize(std::size_t) {}
        void assign(std::size_t, T) {}
    };
    void gemm(Trans, Trans, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
              const float*, std::size_t, float, float*, std::size_t) const {}
    void gemm_strided_batched(Trans, Trans, std::size_t, std::size_t, std::size_t, float,
                              const float*, std::size_t, std::size_t, const float*, std::size_t,
                              std::size_t, float, float*, std::size_t, std::size_t,
                              std::size_t) const {}
    template <class F>
    void for_each(std::size_t, F, std::size_t = 1) const {}
    template <class F>
    double transform_sum(std::size_t, F) const { return 0.0; }
    void column_sums(const float*, std::size_t, std::size_t, float*, float = 0.0f) const {}
    void axpy(std::size_t, float, const float*, float*) const {}
    void fill(float*, std::size_t, float) const {}
    void copy(const float*, float*, std::size_t) const {}
    void to_device(const float*, float*, std::size_t) const {}
    void to_host(const float*, float*, std::size_t) const {}
};

// The check is a function that decltype deduces, not a class: Clang marks a
// class whose static_assert failed as invalid and errs again at every use
// of its members, while a function's return type stays usable.
template <class B>
constexpr auto check_backend() {
    static_assert(Backend<B>, "ctnn: the network's backend lacks an operation the ctnn::Backend "
                              "concept lists (core/backend.hpp); the notes name it");
    return std::type_identity<std::conditional_t<Backend<B>, B, StandInBackend>>{};
}
// BackendCheck<B>::type: B, or the stand-in after the failed check.
template <class B>
using BackendCheck = decltype(check_backend<B>());

} // namespace detail

} // namespace ctnn
