// Conv2D<Filters, Kernel, Stride = 1, Padding = valid>: 2-D convolution over
// channels-first images, Shape<C, H, W> -> Shape<Filters, H', W'>.
//
//   Conv2D<32, 5>                  5x5 kernel, stride 1, no padding
//   Conv2D<32, 5, 1, ctnn::same>   output as large as the input (Keras's "same")
//   Conv2D<32, 5, 1, 2>            two zero rows/columns on each side
//   Conv2D<32, ctnn::Size2{3, 5}>  rectangular kernel (height 3, width 5); a
//                                  Size2 also gives a rectangular stride
//
// The kernel is stored as (Filters, C, KH, KW), PyTorch's layout, then the
// bias. Convolution runs as GEMMs: im2col lays every receptive field of a few
// samples out as columns, W (Filters x C*KH*KW) times them gives their
// outputs, and the bias + activation pass moves them to NCHW order. Each
// thread works through its own share of the batch in cache-sized chunks:
// unfolding the whole batch at once streams tens of MB through memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

// Two extents, height then width, for rectangular kernels and strides.
struct Size2 {
    std::size_t height;
    std::size_t width;
};

// How a convolution pads its input: nothing ("valid"), enough for the output
// to keep the input's size over the stride ("same", as Keras and TensorFlow
// place it: the odd row or column goes after), or a fixed count per side.
struct PaddingMode {
    enum class Kind { valid, same, fixed };
    Kind kind;
    std::size_t count = 0;
};
inline constexpr PaddingMode valid{PaddingMode::Kind::valid};
inline constexpr PaddingMode same{PaddingMode::Kind::same};

namespace detail {

constexpr Size2 as_size2(Size2 size) { return size; }
constexpr Size2 as_size2(std::integral auto n) { return {std::size_t(n), std::size_t(n)}; }
constexpr PaddingMode as_padding(PaddingMode mode) { return mode; }
constexpr PaddingMode as_padding(std::integral auto n) {
    return {PaddingMode::Kind::fixed, std::size_t(n)};
}

// Output extent and padding before, along one axis.
struct ConvAxis {
    std::size_t output;
    std::size_t pad_before;
};

constexpr ConvAxis conv_axis(std::size_t input, std::size_t kernel, std::size_t stride,
                             PaddingMode padding) {
    if (stride == 0 || kernel == 0) return {1, 0};
    switch (padding.kind) {
    case PaddingMode::Kind::valid:
        return {input >= kernel ? (input - kernel) / stride + 1 : 1, 0};
    case PaddingMode::Kind::same: {
        std::size_t output = (input + stride - 1) / stride;
        std::size_t needed = (output - 1) * stride + kernel;
        return {output, needed > input ? (needed - input) / 2 : 0};
    }
    case PaddingMode::Kind::fixed: {
        std::size_t padded = input + 2 * padding.count;
        return {padded >= kernel ? (padded - kernel) / stride + 1 : 1, padding.count};
    }
    }
    return {1, 0};
}

// The padded extent the kernel must fit in (same padding always fits).
constexpr std::size_t padded_extent(std::size_t input, std::size_t kernel, PaddingMode padding) {
    switch (padding.kind) {
    case PaddingMode::Kind::valid: return input;
    case PaddingMode::Kind::same: return std::max(input, kernel);
    case PaddingMode::Kind::fixed: return input + 2 * padding.count;
    }
    return input;
}

} // namespace detail

template <class InputShape, std::size_t Filters, Size2 Kernel, Size2 Stride, PaddingMode Padding,
          class Backend, class Activation>
class Conv2DImpl;

template <std::size_t Filters, auto Kernel, auto Stride = 1, auto Padding = valid>
struct Conv2D {
    static constexpr Size2 kernel = detail::as_size2(Kernel);
    static constexpr Size2 stride = detail::as_size2(Stride);
    static constexpr PaddingMode padding = detail::as_padding(Padding);

    Initializer kernel_initializer = Initializer::glorot_uniform;
    float l2 = 0.0f;  // kernel regulariser: adds l2 * sum(W^2) to the loss

    static constexpr std::string_view type_name = "Conv2D";
    static constexpr bool fuses_activation = true;
    static constexpr bool absorbs_batch_norm = true;
    static constexpr bool absorbs_pooling = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(Filters > 0, "ctnn: Conv2D needs at least one filter");
        static_assert(kernel.height > 0 && kernel.width > 0, "ctnn: Conv2D's kernel is empty");
        static_assert(stride.height > 0 && stride.width > 0, "ctnn: Conv2D's stride must be positive");
        static_assert(InputShape::rank == 3,
                      "ctnn: Conv2D needs a Shape<channels, height, width> input; for one-channel "
                      "images write Input<1, H, W>");
        if constexpr (InputShape::rank == 3) {
            constexpr std::size_t height = InputShape::dims[1], width = InputShape::dims[2];
            static_assert(detail::padded_extent(height, kernel.height, padding) >= kernel.height &&
                              detail::padded_extent(width, kernel.width, padding) >= kernel.width,
                          "ctnn: Conv2D's kernel is larger than its (padded) input");
            return Shape<Filters, detail::conv_axis(height, kernel.height, stride.height, padding).output,
                         detail::conv_axis(width, kernel.width, stride.width, padding).output>{};
        } else {
            return Shape<Filters, 1, 1>{};
        }
    }
    template <class InputShape>
    static constexpr std::size_t param_count =
        Filters * InputShape::dims[0] * kernel.height * kernel.width + Filters;
    template <class InputShape, class Backend, class Activation = ops::Identity>
    using impl = Conv2DImpl<InputShape, Filters, kernel, stride, padding, Backend, Activation>;
};

template <class InputShape, std::size_t Filters, Size2 Kernel, Size2 Stride, PaddingMode Padding,
          class Backend, class Activation>
class Conv2DImpl {
    static constexpr std::size_t channels = InputShape::dims[0];
    static constexpr std::size_t height = InputShape::dims[1], width = InputShape::dims[2];
    static constexpr detail::ConvAxis rows =
        detail::conv_axis(height, Kernel.height, Stride.height, Padding);
    static constexpr detail::ConvAxis cols = detail::conv_axis(width, Kernel.width, Stride.width, Padding);
    static constexpr std::size_t pixels = rows.output * cols.output;  // per output plane
    static constexpr std::size_t patch = channels * Kernel.height * Kernel.width;
    // Samples a thread unfolds at once: enough columns for an efficient GEMM,
    // few enough that they stay in the core's own cache (about 256 KiB).
    static constexpr std::size_t chunk =
        std::clamp<std::size_t>(65536 / (patch * pixels), 1, 16);
    static constexpr std::size_t columns_size = patch * pixels * chunk;
    static constexpr std::size_t outputs_size = Filters * pixels * chunk;

public:
    // What a BatchNorm folding into the kernel needs: one row of `patch`
    // weights per output channel, then the biases.
    static constexpr std::size_t output_channels = Filters;
    static constexpr std::size_t kernel_size = Filters * patch;
    static constexpr std::size_t output_size = Filters * pixels;
    static constexpr std::size_t param_count = kernel_size + Filters;

    template <class Layer>
    explicit Conv2DImpl(const Layer& config, Activation activation = {})
        : initializer_(config.kernel_initializer), l2_(config.l2), activation_(activation) {}

    void initialize(float* params, Rng& rng) const {
        // Keras's fans for convolutions: receptive field times channels in / filters out.
        const std::size_t field = Kernel.height * Kernel.width;
        ctnn::initialize(initializer_, params, kernel_size, channels * field, Filters * field, rng);
        ctnn::initialize(Initializer::zeros, params + kernel_size, Filters, 1, 1, rng);
    }

    // The workspaces are per thread and do not grow with the batch.
    void reserve(std::size_t) {
        const std::size_t threads = thread_count();
        if (threads <= threads_) return;
        threads_ = threads;
        workspace_.resize(threads_ * workspace_stride);
    }

    const float* forward(const Context&, const float* params, const float* x, float* y,
                         std::size_t batch) {
        forward_with(activation_, params, x, y, batch);
        return y;
    }

    float* backward(const Context&, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        return backward_with(activation_, params, grads, x, y, dy, dx, batch);
    }

    float penalty(const float* params) const {
        return l2_ == 0.0f ? 0.0f : l2_ * Backend::sum_of_squares(params, kernel_size);
    }

    // y = op(conv(x) + bias).
    template <class Op>
    void forward_with(Op op, const float* params, const float* x, float* y, std::size_t batch) {
        const float* bias = params + kernel_size;
        convolve(params, x, batch, [&](const float* z, std::size_t stride, std::size_t first,
                                       std::size_t count, std::size_t f_begin, std::size_t f_end) {
            for (std::size_t i = 0; i < count; ++i)
                for (std::size_t f = f_begin; f < f_end; ++f) {
                    const float* from = z + (f - f_begin) * stride + i * pixels;
                    float* to = y + ((first + i) * Filters + f) * pixels;
                    for (std::size_t p = 0; p < pixels; ++p) to[p] = op(from[p] + bias[f]);
                }
        });
    }

    // The gradients of y = op(conv(x) + bias) given dy.
    template <class Op>
    float* backward_with(Op op, const float* params, float* grads, const float* x, const float* y,
                         float* dy, float* dx, std::size_t batch) {
        return convolve_backward(params, grads, x, dx, batch,
                                 [&](float* dz, std::size_t first, std::size_t count) {
            for (std::size_t i = 0; i < count; ++i)
                for (std::size_t f = 0; f < Filters; ++f) {
                    const std::size_t plane = ((first + i) * Filters + f) * pixels;
                    float* to = dz + (f * count + i) * pixels;
                    for (std::size_t p = 0; p < pixels; ++p)
                        to[p] = dy[plane + p] * op.derivative(y[plane + p]);
                }
        });
    }

    // Computes conv(x), without the bias, and hands it to
    //   epilogue(z, stride, first, count, f_begin, f_end)
    // piece by piece: filter f's output plane for sample first + i is at
    // z + (f - f_begin) * stride + i * pixels, while it is in cache. Each
    // thread takes a contiguous share of the batch and runs it chunk by
    // chunk (im2col into its own columns, one GEMM); batches smaller than the
    // thread count split each sample by filters instead.
    template <class Epilogue>
    void convolve(const float* params, const float* x, std::size_t batch, Epilogue&& epilogue) {
        reserve(batch);
        if (batch < thread_count()) return convolve_by_filters(params, x, batch, epilogue);
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            float* columns = columns_of(thread);
            float* z = outputs_of(thread);
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first), n = count * pixels;
                im2col(x + first * InputShape::size, count, columns);
                Backend::gemm(false, false, Filters, n, patch, 1.0f, params, patch, columns, n,
                              0.0f, z, n);
                epilogue(static_cast<const float*>(z), n, first, count, std::size_t{0}, Filters);
            }
        });
    }

    // Writes the kernel and bias gradients, and dx unless it is null, given
    //   fill(dz, first, count)
    // which writes d(loss)/d(conv(x) + bias) for samples [first, first + count)
    // at dz[(f * count + i) * pixels + p]. Threads take the same shares as
    // convolve() and sum their kernel and bias gradients in their own
    // workspace; the shares are added in thread order, so results depend on
    // the thread count but not on timing.
    template <class Fill>
    float* convolve_backward(const float* params, float* grads, const float* x, float* dx,
                             std::size_t batch, Fill&& fill) {
        reserve(batch);
        std::size_t used = 0;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            if (thread == 0) used = std::min(threads, batch);
            float* columns = columns_of(thread);
            float* dz = outputs_of(thread);
            float* partial = partial_of(thread);
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first), n = count * pixels;
                const bool first_chunk = first == mine.begin;
                fill(dz, first, count);
                im2col(x + first * InputShape::size, count, columns);
                Backend::gemm(false, true, Filters, patch, n, 1.0f, dz, n, columns, n,
                              first_chunk ? 0.0f : 1.0f, partial, patch);
                for (std::size_t f = 0; f < Filters; ++f) {
                    float sum = 0.0f;
                    for (std::size_t p = 0; p < n; ++p) sum += dz[f * n + p];
                    partial[kernel_size + f] = first_chunk ? sum : partial[kernel_size + f] + sum;
                }
                if (!dx) continue;
                // The columns are no longer needed: they receive W^T dz.
                Backend::gemm(true, false, patch, n, Filters, 1.0f, params, patch, dz, n, 0.0f,
                              columns, n);
                col2im(columns, count, dx + first * InputShape::size);
            }
        });
        const float* workspace = workspace_.data();
        parallel_for(param_count, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t j = first; j < last; ++j) {
                float sum = workspace[partial_offset + j];
                for (std::size_t t = 1; t < used; ++t)
                    sum += workspace[t * workspace_stride + partial_offset + j];
                grads[j] = sum;
            }
        });
        if (l2_ != 0.0f) Backend::axpy(kernel_size, 2.0f * l2_, params, grads);
        return dx;
    }

private:
    static constexpr std::size_t partial_offset = columns_size + outputs_size;
    static constexpr std::size_t workspace_stride =
        (partial_offset + param_count + 15) / 16 * 16;  // whole cache lines per thread

    float* columns_of(std::size_t thread) { return workspace_.data() + thread * workspace_stride; }
    float* outputs_of(std::size_t thread) { return columns_of(thread) + columns_size; }
    float* partial_of(std::size_t thread) { return columns_of(thread) + partial_offset; }

    // Small batches (batch-1 inference): per sample, the threads unfold a
    // share of the columns each, then each multiplies its share of the filters.
    template <class Epilogue>
    void convolve_by_filters(const float* params, const float* x, std::size_t batch,
                             Epilogue& epilogue) {
        float* columns = columns_of(0);
        for (std::size_t sample = 0; sample < batch; ++sample) {
            parallel_threads([&](std::size_t thread, std::size_t threads) {
                const Share rows_mine = share_of(patch, thread, threads);
                im2col_rows(x + sample * InputShape::size, 1, columns, rows_mine.begin,
                            rows_mine.end);
#pragma omp barrier
                const Share filters = share_of(Filters, thread, threads);
                if (filters.begin == filters.end) return;
                float* z = outputs_of(thread);
                Backend::gemm(false, false, filters.end - filters.begin, pixels, patch, 1.0f,
                              params + filters.begin * patch, patch, columns, pixels, 0.0f, z,
                              pixels);
                epilogue(static_cast<const float*>(z), pixels, sample, std::size_t{1},
                         filters.begin, filters.end);
            });
        }
    }

    // The output columns [begin, end) along one axis whose input index
    // o * stride + k - pad falls inside [0, extent).
    static constexpr Share inside(std::size_t k, std::size_t stride, std::size_t pad,
                                  std::size_t extent, std::size_t outputs) {
        const std::size_t begin = k >= pad ? 0 : (pad - k + stride - 1) / stride;
        if (extent + pad <= k) return {outputs, outputs};
        const std::size_t end = std::min(outputs, (extent + pad - k - 1) / stride + 1);
        return {std::min(begin, end), end};
    }

    // columns[(c, kh, kw)][(i, oh, ow)] = padded x[i][c][ih][iw] for the
    // `count` samples at x, rows [row_begin, row_end) of the patch.
    static void im2col_rows(const float* x, std::size_t count, float* columns,
                            std::size_t row_begin, std::size_t row_end) {
        const std::size_t n = count * pixels;
        for (std::size_t row = row_begin; row < row_end; ++row) {
            const std::size_t c = row / (Kernel.height * Kernel.width);
            const std::size_t kh = row / Kernel.width % Kernel.height, kw = row % Kernel.width;
            const Share across = inside(kw, Stride.width, cols.pad_before, width, cols.output);
            const Share down = inside(kh, Stride.height, rows.pad_before, height, rows.output);
            float* out = columns + row * n;
            for (std::size_t i = 0; i < count; ++i) {
                const float* plane = x + (i * channels + c) * height * width;
                for (std::size_t oh = 0; oh < rows.output; ++oh, out += cols.output) {
                    if (oh < down.begin || oh >= down.end) {
                        std::fill_n(out, cols.output, 0.0f);
                        continue;
                    }
                    // Inside the ranges, every index below stays >= 0.
                    const float* in = plane + (oh * Stride.height + kh - rows.pad_before) * width;
                    std::fill(out, out + across.begin, 0.0f);
                    for (std::size_t ow = across.begin; ow < across.end; ++ow)
                        out[ow] = in[ow * Stride.width + kw - cols.pad_before];
                    std::fill(out + across.end, out + cols.output, 0.0f);
                }
            }
        }
    }
    static void im2col(const float* x, std::size_t count, float* columns) {
        im2col_rows(x, count, columns, 0, patch);
    }

    // dx[i][c][ih][iw] = the sum of the column entries im2col copied it to,
    // for the `count` samples at dx.
    static void col2im(const float* columns, std::size_t count, float* dx) {
        const std::size_t n = count * pixels;
        std::fill_n(dx, count * InputShape::size, 0.0f);
        for (std::size_t row = 0; row < patch; ++row) {
            const std::size_t c = row / (Kernel.height * Kernel.width);
            const std::size_t kh = row / Kernel.width % Kernel.height, kw = row % Kernel.width;
            const Share across = inside(kw, Stride.width, cols.pad_before, width, cols.output);
            const Share down = inside(kh, Stride.height, rows.pad_before, height, rows.output);
            const float* in = columns + row * n;
            for (std::size_t i = 0; i < count; ++i) {
                float* plane = dx + (i * channels + c) * height * width;
                for (std::size_t oh = down.begin; oh < down.end; ++oh) {
                    const float* from = in + (i * rows.output + oh) * cols.output;
                    float* to = plane + (oh * Stride.height + kh - rows.pad_before) * width;
                    for (std::size_t ow = across.begin; ow < across.end; ++ow)
                        to[ow * Stride.width + kw - cols.pad_before] += from[ow];
                }
            }
        }
    }

    Initializer initializer_;
    float l2_;
    Activation activation_;
    std::size_t threads_ = 0;
    typename Backend::template buffer<float> workspace_;
};

} // namespace ctnn
