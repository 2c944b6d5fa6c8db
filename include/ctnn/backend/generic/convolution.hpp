// Convolution as GEMMs, for any backend: the geometry, the im2col and col2im
// kernels (functors that every backend runs), and the generic driver that
// serves a backend without a fast path of its own. The CPU backend's fast
// path (backend/cpu/convolution.hpp) runs the same kernels in per-thread
// chunks; layers call forward()/backward() here, which pick.
//
// A convolution hands its raw output z = W * columns to a sink (core/
// epilogue.hpp) one (sample, filter) plane at a time: plane s * Filters + f.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/config.hpp"

namespace ctnn::convolution {

struct Range {
    std::size_t begin, end;
};

// Everything about a convolution's shapes, fixed at compile time.
template <std::size_t Channels, std::size_t Height, std::size_t Width, std::size_t Filters,
          std::size_t KernelHeight, std::size_t KernelWidth, std::size_t StrideHeight,
          std::size_t StrideWidth, std::size_t PadTop, std::size_t PadLeft, std::size_t OutHeight,
          std::size_t OutWidth>
struct Geometry {
    static constexpr std::size_t channels = Channels, height = Height, width = Width;
    static constexpr std::size_t filters = Filters;
    static constexpr std::size_t kernel_height = KernelHeight, kernel_width = KernelWidth;
    static constexpr std::size_t stride_height = StrideHeight, stride_width = StrideWidth;
    static constexpr std::size_t pad_top = PadTop, pad_left = PadLeft;
    static constexpr std::size_t out_height = OutHeight, out_width = OutWidth;
    static constexpr std::size_t pixels = OutHeight * OutWidth;  // per output plane
    static constexpr std::size_t patch = Channels * KernelHeight * KernelWidth;
    static constexpr std::size_t input_size = Channels * Height * Width;
    static constexpr std::size_t output_size = Filters * pixels;
    static constexpr std::size_t kernel_size = Filters * patch;

    // The outputs [begin, end) along one axis whose input index
    // o * stride + k - pad falls inside [0, extent).
    CTNN_HOST_DEVICE static constexpr Range inside(std::size_t k, std::size_t stride, std::size_t pad,
                                                   std::size_t extent, std::size_t outputs) {
        const std::size_t begin = k >= pad ? 0 : (pad - k + stride - 1) / stride;
        if (extent + pad <= k) return {outputs, outputs};
        const std::size_t end = (extent + pad - k - 1) / stride + 1 < outputs
                                    ? (extent + pad - k - 1) / stride + 1
                                    : outputs;
        return {begin < end ? begin : end, end};
    }

    // Patch row (c, kh, kw): one input channel and kernel offset, and the
    // output rows and columns whose window reads inside the input there.
    struct PatchRow {
        std::size_t channel, kh, kw;
        Range down, across;
    };
    CTNN_HOST_DEVICE static constexpr PatchRow patch_row(std::size_t row) {
        const std::size_t kh = row / KernelWidth % KernelHeight, kw = row % KernelWidth;
        return {row / (KernelHeight * KernelWidth), kh, kw,
                inside(kh, StrideHeight, PadTop, Height, OutHeight),
                inside(kw, StrideWidth, PadLeft, Width, OutWidth)};
    }
};

// Columns for `count` samples: entry (sample i, patch row (c, kh, kw), output
// pixel p) at columns[row * row_stride + i * sample_stride + p], the padded
// input x[i][c][oh * stride + kh - pad][ow * stride + kw - pad]. One index
// fills one (sample, row) pair: index = i * patch + row.
template <class G>
struct Im2col {
    const float* x;
    float* columns;
    std::size_t row_stride, sample_stride;

    CTNN_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t i = index / G::patch, row = index % G::patch;
        const auto [c, kh, kw, down, across] = G::patch_row(row);
        const float* plane = x + (i * G::channels + c) * G::height * G::width;
        float* out = columns + row * row_stride + i * sample_stride;
        for (std::size_t oh = 0; oh < G::out_height; ++oh, out += G::out_width) {
            if (oh < down.begin || oh >= down.end) {
                for (std::size_t ow = 0; ow < G::out_width; ++ow) out[ow] = 0.0f;
                continue;
            }
            // Inside the ranges, every index below stays >= 0.
            const float* in = plane + (oh * G::stride_height + kh - G::pad_top) * G::width;
            for (std::size_t ow = 0; ow < across.begin; ++ow) out[ow] = 0.0f;
            for (std::size_t ow = across.begin; ow < across.end; ++ow)
                out[ow] = in[ow * G::stride_width + kw - G::pad_left];
            for (std::size_t ow = across.end; ow < G::out_width; ++ow) out[ow] = 0.0f;
        }
    }
};

// The reverse: dx[i][c] = the sum of the column entries im2col copied each
// input value to, in patch-row order. One index writes one (sample, channel)
// plane: index = i * channels + c.
template <class G>
struct Col2im {
    const float* columns;
    float* dx;
    std::size_t row_stride, sample_stride;

    CTNN_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t i = index / G::channels, c = index % G::channels;
        float* plane = dx + index * G::height * G::width;
        for (std::size_t j = 0; j < G::height * G::width; ++j) plane[j] = 0.0f;
        // Channel c's patch rows, in order: each input value's sum runs the same way always.
        const std::size_t rows = G::kernel_height * G::kernel_width;
        for (std::size_t row = c * rows; row < (c + 1) * rows; ++row) {
            const auto [channel, kh, kw, down, across] = G::patch_row(row);
            const float* in = columns + row * row_stride + i * sample_stride;
            for (std::size_t oh = down.begin; oh < down.end; ++oh) {
                const float* from = in + oh * G::out_width;
                float* to = plane + (oh * G::stride_height + kh - G::pad_top) * G::width;
                for (std::size_t ow = across.begin; ow < across.end; ++ow)
                    to[ow * G::stride_width + kw - G::pad_left] += from[ow];
            }
        }
    }
};

// The sink over planes [first_plane, ...) of z laid out plane after plane.
template <class Sink, std::size_t Pixels>
struct SinkPlanes {
    Sink sink;
    const float* z;
    std::size_t first_plane;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t q) const {
        sink.forward(z + q * Pixels, first_plane + q, y);
    }
};
template <class Sink, std::size_t Pixels>
struct SinkGradientPlanes {
    Sink sink;
    const float* dy;
    const float* y;
    std::size_t first_plane;
    float* dz;
    CTNN_HOST_DEVICE void operator()(std::size_t q) const {
        sink.backward(dy, y, first_plane + q, dz + q * Pixels);
    }
};

// bias_gradient[f] (+)= the sum of dz over the chunk's samples and pixels.
template <class G>
struct BiasGradient {
    const float* dz;  // (count, filters, pixels)
    std::size_t count;
    float* bias_gradient;
    bool accumulate;
    CTNN_HOST_DEVICE void operator()(std::size_t f) const {
        float sum = 0.0f;
        for (std::size_t i = 0; i < count; ++i)
            for (std::size_t p = 0; p < G::pixels; ++p) sum += dz[(i * G::filters + f) * G::pixels + p];
        bias_gradient[f] = accumulate ? bias_gradient[f] + sum : sum;
    }
};

// The driver for any backend: chunks of samples, each unfolded per sample
// (columns (sample, patch, pixels)), multiplied by one batched GEMM whose
// outputs are already (sample, filter) planes.
template <class G>
struct Generic {
    static constexpr std::size_t chunk = 32;
    static constexpr std::size_t columns_size = chunk * G::patch * G::pixels;

    static constexpr std::size_t workspace_size() { return columns_size + chunk * G::output_size; }

    template <class Backend, class Sink>
    static void forward(const Backend& backend, const float* kernel, const float* x, float* y,
                        std::size_t batch, float* workspace, const Sink& sink) {
        float* columns = workspace;
        float* z = workspace + columns_size;
        for (std::size_t first = 0; first < batch; first += chunk) {
            const std::size_t count = std::min(chunk, batch - first);
            backend.for_each(count * G::patch,
                             Im2col<G>{x + first * G::input_size, columns, G::pixels, G::patch * G::pixels},
                             G::pixels);
            backend.gemm_strided_batched(Trans::no, Trans::no, G::filters, G::pixels, G::patch, 1.0f,
                                         kernel, G::patch, 0, columns, G::pixels, G::patch * G::pixels,
                                         0.0f, z, G::pixels, G::output_size, count);
            backend.for_each(count * G::filters,
                             SinkPlanes<Sink, G::pixels>{sink, z, first * G::filters, y}, G::pixels);
        }
    }

    template <class Backend, class Sink>
    static void backward(const Backend& backend, const float* kernel, const float* x, const float* y,
                         const float* dy, float* dx, float* kernel_gradient, float* bias_gradient,
                         std::size_t batch, float* workspace, const Sink& sink) {
        float* columns = workspace;
        float* dz = workspace + columns_size;
        for (std::size_t first = 0; first < batch; first += chunk) {
            const std::size_t count = std::min(chunk, batch - first);
            backend.for_each(count * G::filters,
                             SinkGradientPlanes<Sink, G::pixels>{sink, dy, y, first * G::filters, dz},
                             G::pixels);
            backend.for_each(count * G::patch,
                             Im2col<G>{x + first * G::input_size, columns, G::pixels, G::patch * G::pixels},
                             G::pixels);
            for (std::size_t i = 0; i < count; ++i)
                backend.gemm(Trans::no, Trans::yes, G::filters, G::patch, G::pixels, 1.0f,
                             dz + i * G::output_size, G::pixels, columns + i * G::patch * G::pixels,
                             G::pixels, first + i == 0 ? 0.0f : 1.0f, kernel_gradient, G::patch);
            backend.for_each(G::filters, BiasGradient<G>{dz, count, bias_gradient, first > 0},
                             count * G::pixels);
            if (!dx) continue;
            // The columns are no longer needed: they receive W^T dz.
            backend.gemm_strided_batched(Trans::yes, Trans::no, G::patch, G::pixels, G::filters, 1.0f,
                                         kernel, G::patch, 0, dz, G::pixels, G::output_size, 0.0f,
                                         columns, G::pixels, G::patch * G::pixels, count);
            backend.for_each(count * G::channels,
                             Col2im<G>{columns, dx + first * G::input_size, G::pixels, G::patch * G::pixels},
                             G::input_size / G::channels);
        }
    }
};

// What layers call: the backend's own convolution where it has one (the CPU
// backend's per-thread chunks), else the generic driver.
template <class G, class Backend>
std::size_t workspace_size(const Backend& backend) {
    if constexpr (requires { backend.template convolution_workspace<G>(); })
        return backend.template convolution_workspace<G>();
    else
        return Generic<G>::workspace_size();
}

template <class G, class Backend, class Sink>
void forward(const Backend& backend, const float* kernel, const float* x, float* y,
             std::size_t batch, float* workspace, const Sink& sink) {
    if constexpr (requires { backend.template convolve<G>(kernel, x, y, batch, workspace, sink); })
        backend.template convolve<G>(kernel, x, y, batch, workspace, sink);
    else
        Generic<G>::forward(backend, kernel, x, y, batch, workspace, sink);
}

template <class G, class Backend, class Sink>
void backward(const Backend& backend, const float* kernel, const float* x, const float* y,
              const float* dy, float* dx, float* kernel_gradient, float* bias_gradient,
              std::size_t batch, float* workspace, const Sink& sink) {
    if constexpr (requires {
                      backend.template convolve_backward<G>(kernel, x, y, dy, dx, kernel_gradient,
                                                            bias_gradient, batch, workspace, sink);
                  })
        backend.template convolve_backward<G>(kernel, x, y, dy, dx, kernel_gradient, bias_gradient,
                                              batch, workspace, sink);
    else
        Generic<G>::backward(backend, kernel, x, y, dy, dx, kernel_gradient, bias_gradient, batch,
                             workspace, sink);
}

} // namespace ctnn::convolution
