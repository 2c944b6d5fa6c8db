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
// bias. A batch runs as one GEMM: im2col lays every receptive field of every
// sample out as a column, W (Filters x C*KH*KW) times that matrix gives all
// outputs, and the bias + activation pass also moves them to NCHW order.
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
    static constexpr std::size_t kernel_size = Filters * patch;

public:
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

    void reserve(std::size_t max_batch) {
        columns_.resize(patch * pixels * max_batch);
        outputs_.resize(Filters * pixels * max_batch);
    }

    const float* forward(const Context&, const float* params, const float* x, float* y,
                         std::size_t batch) {
        const std::size_t n = pixels * batch;
        im2col(x, batch);
        Backend::gemm(false, false, Filters, n, patch, 1.0f, params, patch, columns_.data(), n,
                      0.0f, outputs_.data(), n);
        // outputs_ is (Filters, batch, pixels); y is (batch, Filters, pixels).
        const float* bias = params + kernel_size;
        const float* z = outputs_.data();
        const Activation op = activation_;
        parallel_for(batch * Filters, parallel_grain / pixels + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t plane = first; plane < last; ++plane) {
                const std::size_t sample = plane / Filters, filter = plane % Filters;
                const float* from = z + (filter * batch + sample) * pixels;
                float* to = y + plane * pixels;
                for (std::size_t p = 0; p < pixels; ++p) to[p] = op(from[p] + bias[filter]);
            }
        });
        return y;
    }

    float* backward(const Context&, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        (void)x;  // the forward pass's columns hold everything needed of x
        const std::size_t n = pixels * batch;
        // dz = dy * act'(y), moved back to (Filters, batch, pixels).
        float* dz = outputs_.data();
        const Activation op = activation_;
        parallel_for(batch * Filters, parallel_grain / pixels + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t plane = first; plane < last; ++plane) {
                const std::size_t sample = plane / Filters, filter = plane % Filters;
                const float* g = dy + plane * pixels;
                const float* out = y + plane * pixels;
                float* to = dz + (filter * batch + sample) * pixels;
                for (std::size_t p = 0; p < pixels; ++p) to[p] = g[p] * op.derivative(out[p]);
            }
        });
        float* kernel_grad = grads;
        Backend::gemm(false, true, Filters, patch, n, 1.0f, dz, n, columns_.data(), n, 0.0f,
                      kernel_grad, patch);
        Backend::row_sums(dz, Filters, n, grads + kernel_size);
        if (l2_ != 0.0f) Backend::axpy(kernel_size, 2.0f * l2_, params, kernel_grad);
        if (!dx) return nullptr;
        // The columns are no longer needed: they receive d(columns) = W^T dz.
        Backend::gemm(true, false, patch, n, Filters, 1.0f, params, patch, dz, n, 0.0f,
                      columns_.data(), n);
        col2im(dx, batch);
        return dx;
    }

    float penalty(const float* params) const {
        return l2_ == 0.0f ? 0.0f : l2_ * Backend::sum_of_squares(params, kernel_size);
    }

private:
    // columns_[(c, kh, kw)][(sample, oh, ow)] = padded x[sample][c][ih][iw].
    void im2col(const float* x, std::size_t batch) {
        float* columns = columns_.data();
        parallel_for(patch, 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t row = first; row < last; ++row) {
                const std::size_t c = row / (Kernel.height * Kernel.width);
                const std::size_t kh = row / Kernel.width % Kernel.height, kw = row % Kernel.width;
                float* out = columns + row * pixels * batch;
                for (std::size_t sample = 0; sample < batch; ++sample) {
                    const float* plane = x + (sample * channels + c) * height * width;
                    for (std::size_t oh = 0; oh < rows.output; ++oh) {
                        const std::ptrdiff_t ih = std::ptrdiff_t(oh * Stride.height + kh) -
                                                  std::ptrdiff_t(rows.pad_before);
                        const bool inside = ih >= 0 && ih < std::ptrdiff_t(height);
                        for (std::size_t ow = 0; ow < cols.output; ++ow) {
                            const std::ptrdiff_t iw = std::ptrdiff_t(ow * Stride.width + kw) -
                                                      std::ptrdiff_t(cols.pad_before);
                            *out++ = inside && iw >= 0 && iw < std::ptrdiff_t(width)
                                         ? plane[std::size_t(ih) * width + std::size_t(iw)]
                                         : 0.0f;
                        }
                    }
                }
            }
        });
    }

    // dx[sample][c][ih][iw] = sum of the column entries im2col copied it to.
    // Split by channel, so no two threads add to the same value.
    void col2im(float* dx, std::size_t batch) const {
        const float* columns = columns_.data();
        parallel_for(channels, 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t c = first; c < last; ++c) {
                for (std::size_t sample = 0; sample < batch; ++sample)
                    std::fill_n(dx + (sample * channels + c) * height * width, height * width, 0.0f);
                for (std::size_t kh = 0; kh < Kernel.height; ++kh) {
                    for (std::size_t kw = 0; kw < Kernel.width; ++kw) {
                        const float* in =
                            columns + ((c * Kernel.height + kh) * Kernel.width + kw) * pixels * batch;
                        for (std::size_t sample = 0; sample < batch; ++sample) {
                            float* plane = dx + (sample * channels + c) * height * width;
                            for (std::size_t oh = 0; oh < rows.output; ++oh) {
                                const std::ptrdiff_t ih = std::ptrdiff_t(oh * Stride.height + kh) -
                                                          std::ptrdiff_t(rows.pad_before);
                                const bool inside = ih >= 0 && ih < std::ptrdiff_t(height);
                                for (std::size_t ow = 0; ow < cols.output; ++ow, ++in) {
                                    const std::ptrdiff_t iw = std::ptrdiff_t(ow * Stride.width + kw) -
                                                              std::ptrdiff_t(cols.pad_before);
                                    if (inside && iw >= 0 && iw < std::ptrdiff_t(width))
                                        plane[std::size_t(ih) * width + std::size_t(iw)] += *in;
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    Initializer initializer_;
    float l2_;
    Activation activation_;
    typename Backend::template buffer<float> columns_;
    typename Backend::template buffer<float> outputs_;
};

} // namespace ctnn
