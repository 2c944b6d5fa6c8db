// The CPU backend's convolution: per thread, per cache-sized chunk of the
// batch. Unfolding a whole batch for one GEMM streams tens of MB of columns
// through memory; here each thread takes a contiguous share of the batch and
// works through it a few samples at a time: im2col into its own columns, one
// single-threaded GEMM, and the sink while the chunk's output is in cache.
// Kernel and bias gradients are summed per thread and added in thread order,
// so results depend on the thread count but not on timing. Batches smaller
// than the thread count (batch-1 inference) split each sample's filters
// over the threads instead. Stride-1 convolutions in float skip all of this
// on targets with AVX2 or AVX-512: forward through DirectConvolution
// (direct_convolution.hpp) or Winograd (winograd.hpp), backward through
// LanesBackward (lanes_backward.hpp).
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/backend/cpu/direct_convolution.hpp"
#include "ctnn/backend/cpu/lanes_backward.hpp"
#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/backend/cpu/winograd.hpp"
#include "ctnn/backend/cpu/winograd_backward.hpp"
#include "ctnn/backend/generic/convolution.hpp"
#include "ctnn/core/backend.hpp"

namespace ctnn::backend::cpu {

template <class G>
class ChunkedConvolution {
    // Samples a thread unfolds at once: enough columns for an efficient GEMM,
    // few enough that they stay in the core's own cache (about 256 KiB).
    static constexpr std::size_t chunk = std::clamp<std::size_t>(65536 / (G::patch * G::pixels), 1, 16);
    static constexpr std::size_t columns_size = G::patch * G::pixels * chunk;
    static constexpr std::size_t outputs_size = G::filters * G::pixels * chunk;
    static constexpr std::size_t partial_size = G::kernel_size + G::filters;
    static constexpr std::size_t partial_offset = columns_size + outputs_size;
    static constexpr std::size_t stride = direct::whole_lines(partial_offset + partial_size);

    static float* columns_of(float* workspace, std::size_t thread) { return workspace + thread * stride; }
    static float* outputs_of(float* workspace, std::size_t thread) {
        return columns_of(workspace, thread) + columns_size;
    }
    static float* partial_of(float* workspace, std::size_t thread) {
        return columns_of(workspace, thread) + partial_offset;
    }

    // Columns laid out (patch row, sample, pixel) for the chunk's one GEMM.
    static void unfold(const float* x, std::size_t count, float* columns, std::size_t row_begin,
                       std::size_t row_end) {
        const convolution::Im2col<G> im2col{x, columns, count * G::pixels, G::pixels};
        for (std::size_t row = row_begin; row < row_end; ++row)
            for (std::size_t i = 0; i < count; ++i) im2col(i * G::patch + row);
    }

    using Direct = direct::DirectConvolution<G>;
    using Winograd = winograd::Winograd<G>;
    using WinogradBackward = winograd::Backward<G>;

public:
    static std::size_t workspace_size() {
        std::size_t size = thread_count() * stride;
        if constexpr (Direct::forward_applies)
            size = std::max(size, Direct::workspace_size());
        if constexpr (Winograd::applies) size = std::max(size, Winograd::workspace_size());
        if constexpr (WinogradBackward::applies)
            size = std::max(size, WinogradBackward::workspace_size());
        else if constexpr (direct::lanes_backward_applies<G>)
            size = std::max(size, direct::LanesBackward<G>::workspace_size());
        return size;
    }

    // `direct_allowed` (the direct kernels and Winograd's): false where the
    // backend multiplies in bf16 (which only its GEMM does) or
    // CTNN_DIRECT_CONVOLUTION=0 says so.
    template <class Backend, class Sink>
    static void forward(const Backend& backend, const float* kernel, const float* x, float* y,
                        std::size_t batch, float* workspace, const Sink& sink, bool direct_allowed) {
        if constexpr (Winograd::applies)
            if (direct_allowed && batch >= thread_count())
                return Winograd::forward(backend, kernel, x, y, batch, workspace, sink);
        if constexpr (Direct::forward_applies)
            if (direct_allowed) return Direct::forward(kernel, x, y, batch, workspace, sink);
        if (batch < thread_count()) return forward_by_filters(backend, kernel, x, y, batch, workspace, sink);
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            float* columns = columns_of(workspace, thread);
            float* z = outputs_of(workspace, thread);
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first), n = count * G::pixels;
                unfold(x + first * G::input_size, count, columns, 0, G::patch);
                backend.gemm(Trans::no, Trans::no, G::filters, n, G::patch, 1.0f, kernel, G::patch,
                             columns, n, 0.0f, z, n);
                for (std::size_t i = 0; i < count; ++i)
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.forward(z + f * n + i * G::pixels, (first + i) * G::filters + f, y);
            }
        });
    }

    // Writes the kernel and bias gradients, and dx unless it is null, from
    // the sink's gradient of each plane.
    template <class Backend, class Sink>
    static void backward(const Backend& backend, const float* kernel, const float* x, const float* y,
                         const float* dy, float* dx, float* kernel_gradient, float* bias_gradient,
                         std::size_t batch, float* workspace, const Sink& sink, bool direct_allowed) {
        if constexpr (WinogradBackward::applies)
            if (direct_allowed)
                return WinogradBackward::backward(backend, kernel, x, y, dy, dx, kernel_gradient, bias_gradient,
                                                  batch, workspace, sink);
        if constexpr (direct::lanes_backward_applies<G>)
            if (direct_allowed)
                return direct::LanesBackward<G>::backward(kernel, x, y, dy, dx, kernel_gradient, bias_gradient,
                                                          batch, workspace, sink);
        std::size_t used = 0;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            if (thread == 0) used = std::min(threads, batch);
            float* columns = columns_of(workspace, thread);
            float* dz = outputs_of(workspace, thread);
            float* partial = partial_of(workspace, thread);
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first), n = count * G::pixels;
                const bool first_chunk = first == mine.begin;
                for (std::size_t i = 0; i < count; ++i)
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.backward(dy, y, (first + i) * G::filters + f, dz + f * n + i * G::pixels);
                unfold(x + first * G::input_size, count, columns, 0, G::patch);
                backend.gemm(Trans::no, Trans::yes, G::filters, G::patch, n, 1.0f, dz, n, columns, n,
                             first_chunk ? 0.0f : 1.0f, partial, G::patch);
                for (std::size_t f = 0; f < G::filters; ++f) {
                    const float sum = direct::run_sum(dz + f * n, n);
                    partial[G::kernel_size + f] = first_chunk ? sum : partial[G::kernel_size + f] + sum;
                }
                if (!dx) continue;
                // The columns are no longer needed: they receive W^T dz.
                backend.gemm(Trans::yes, Trans::no, G::patch, n, G::filters, 1.0f, kernel, G::patch, dz,
                             n, 0.0f, columns, n);
                const convolution::Col2im<G> col2im{columns, dx + first * G::input_size, n, G::pixels};
                for (std::size_t plane = 0; plane < count * G::channels; ++plane) col2im(plane);
            }
        });
        direct::add_partials<G>(partial_of(workspace, 0), stride, used, kernel_gradient, bias_gradient);
    }

private:
    // Per sample, the threads unfold a share of the columns each, then each
    // multiplies its share of the filters.
    template <class Backend, class Sink>
    static void forward_by_filters(const Backend& backend, const float* kernel, const float* x,
                                   float* y, std::size_t batch, float* workspace, const Sink& sink) {
        float* columns = columns_of(workspace, 0);
        for (std::size_t sample = 0; sample < batch; ++sample) {
            parallel_threads([&](std::size_t thread, std::size_t threads) {
                const Share rows = share_of(G::patch, thread, threads);
                unfold(x + sample * G::input_size, 1, columns, rows.begin, rows.end);
                team_barrier();
                const Share filters = share_of(G::filters, thread, threads);
                if (filters.begin == filters.end) return;
                float* z = outputs_of(workspace, thread);
                backend.gemm(Trans::no, Trans::no, filters.end - filters.begin, G::pixels, G::patch,
                             1.0f, kernel + filters.begin * G::patch, G::patch, columns, G::pixels,
                             0.0f, z, G::pixels);
                for (std::size_t f = filters.begin; f < filters.end; ++f)
                    sink.forward(z + (f - filters.begin) * G::pixels, sample * G::filters + f, y);
            });
        }
    }
};

} // namespace ctnn::backend::cpu
