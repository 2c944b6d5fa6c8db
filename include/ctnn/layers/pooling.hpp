// Pooling over the two spatial axes of a channels-first Shape<C, H, W>:
// MaxPool2D and AvgPool2D slide a square window ("valid" padding, as Keras's
// default), GlobalAveragePool averages each channel's plane to one value.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/conv_max_pool.hpp"

namespace ctnn {

namespace detail {

// Extent I of S, or 1 where S has none: an impl stays well-formed when its
// layer's shape check fails, so the static_assert stays the only error.
template <class S>
consteval std::size_t extent_or_one(std::size_t i) {
    return i < S::rank && S::dims[i] > 0 ? S::dims[i] : 1;
}

// Where a PoolH x PoolW window moving by StrideH, StrideW lands on InputShape.
template <class InputShape, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW>
struct PoolGeometry {
    static constexpr std::size_t channels = extent_or_one<InputShape>(0);
    static constexpr std::size_t height = extent_or_one<InputShape>(1);
    static constexpr std::size_t width = extent_or_one<InputShape>(2);

    static constexpr bool positive = PoolH > 0 && PoolW > 0 && StrideH > 0 && StrideW > 0;
    static constexpr bool is_image = InputShape::rank == 3;
    static constexpr bool fits = PoolH <= height && PoolW <= width;
    static constexpr bool valid = positive && is_image && fits;

    static constexpr std::size_t out_height = valid ? (height - PoolH) / StrideH + 1 : 1;
    static constexpr std::size_t out_width = valid ? (width - PoolW) / StrideW + 1 : 1;
    static constexpr std::size_t pool_height = PoolH, pool_width = PoolW;
    static constexpr std::size_t stride_height = StrideH, stride_width = StrideW;
    static constexpr std::size_t in_plane = height * width;
    static constexpr std::size_t out_plane = out_height * out_width;
    using output_shape = Shape<channels, out_height, out_width>;

    // Work is split by (sample, channel) planes; small planes go in bunches.
    static constexpr std::size_t plane_grain = std::max<std::size_t>(1, parallel_grain / in_plane);
};

} // namespace detail

template <class InputShape, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW, class Backend>
class MaxPool2DImpl;
template <class InputShape, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW, class Backend>
class AvgPool2DImpl;
template <class InputShape, class Backend>
class GlobalAveragePoolImpl;

// MaxPool2D<Pool, Stride>: the largest value of each Pool x Pool window. On a
// tie the first maximum in row-major window order takes the gradient.
template <std::size_t Pool, std::size_t Stride = Pool>
struct MaxPool2D {
    static constexpr std::string_view type_name = "MaxPooling2D";

    // Each check holds when an earlier one failed, and a failed layer passes
    // its input shape on, so the layers after it see what they would see
    // without it: one mistake, one error.
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        using G = detail::PoolGeometry<InputShape, Pool, Pool, Stride, Stride>;
        static_assert(G::positive, "ctnn: MaxPool2D needs a pool size and a stride of at least 1");
        static_assert(!G::positive || G::is_image,
                      "ctnn: MaxPool2D needs a Shape<channels, height, width> input");
        static_assert(!G::positive || !G::is_image || G::fits,
                      "ctnn: MaxPool2D's window is larger than its input");
        if constexpr (G::valid)
            return typename G::output_shape{};
        else
            return InputShape{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
    template <class InputShape, class Backend>
    using impl = MaxPool2DImpl<InputShape, Pool, Pool, Stride, Stride, Backend>;

    // After a Conv2D (and its activation) the pooling runs in the
    // convolution's epilogue.
    static constexpr bool pools_in_epilogue = true;
    template <class InputShape, class Backend, class ConvImpl, class Activation>
    using fused_impl =
        ConvMaxPoolImpl<ConvImpl, detail::PoolGeometry<InputShape, Pool, Pool, Stride, Stride>,
                        Activation, Backend>;
};

// AvgPool2D<Pool, Stride>: the mean of each Pool x Pool window.
template <std::size_t Pool, std::size_t Stride = Pool>
struct AvgPool2D {
    static constexpr std::string_view type_name = "AveragePooling2D";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        using G = detail::PoolGeometry<InputShape, Pool, Pool, Stride, Stride>;
        static_assert(G::positive, "ctnn: AvgPool2D needs a pool size and a stride of at least 1");
        static_assert(!G::positive || G::is_image,
                      "ctnn: AvgPool2D needs a Shape<channels, height, width> input");
        static_assert(!G::positive || !G::is_image || G::fits,
                      "ctnn: AvgPool2D's window is larger than its input");
        if constexpr (G::valid)
            return typename G::output_shape{};
        else
            return InputShape{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
    template <class InputShape, class Backend>
    using impl = AvgPool2DImpl<InputShape, Pool, Pool, Stride, Stride, Backend>;
};

// GlobalAveragePool: Shape<C, H, W> to Shape<C>, the mean of each channel.
struct GlobalAveragePool {
    static constexpr std::string_view type_name = "GlobalAveragePooling2D";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(InputShape::rank == 3,
                      "ctnn: GlobalAveragePool needs a Shape<channels, height, width> input");
        if constexpr (InputShape::rank == 3)
            return Shape<InputShape::template dim<0>>{};
        else
            return InputShape{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
    template <class InputShape, class Backend>
    using impl = GlobalAveragePoolImpl<InputShape, Backend>;
};

template <class InputShape, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW, class Backend>
class MaxPool2DImpl : public ParameterFreeImpl {
    using G = detail::PoolGeometry<InputShape, PoolH, PoolW, StrideH, StrideW>;

public:
    explicit MaxPool2DImpl(const auto&) {}

    // Backward needs where each maximum came from: one index per output.
    void reserve(std::size_t max_batch) {
        if (argmax_.size() < max_batch * G::channels * G::out_plane)
            argmax_.resize(max_batch * G::channels * G::out_plane);
    }

    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        reserve(batch);
        std::uint32_t* argmax = argmax_.data();
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p) {
                const float* in = x + p * G::in_plane;
                float* out = y + p * G::out_plane;
                std::uint32_t* from = argmax + p * G::out_plane;
                for (std::size_t oy = 0; oy < G::out_height; ++oy)
                    for (std::size_t ox = 0; ox < G::out_width; ++ox) {
                        const std::size_t corner = oy * StrideH * G::width + ox * StrideW;
                        std::size_t best_at = corner;
                        float best = in[corner];
                        for (std::size_t ky = 0; ky < PoolH; ++ky)
                            for (std::size_t kx = 0; kx < PoolW; ++kx) {
                                const std::size_t at = corner + ky * G::width + kx;
                                if (in[at] > best) {  // strictly: the first maximum wins
                                    best = in[at];
                                    best_at = at;
                                }
                            }
                        out[oy * G::out_width + ox] = best;
                        from[oy * G::out_width + ox] = std::uint32_t(best_at);
                    }
            }
        });
        return y;
    }

    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        const std::uint32_t* argmax = argmax_.data();
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p) {
                float* grad = dx + p * G::in_plane;
                const float* d = dy + p * G::out_plane;
                const std::uint32_t* from = argmax + p * G::out_plane;
                std::fill(grad, grad + G::in_plane, 0.0f);
                // Overlapping windows (stride < pool) may share a maximum.
                for (std::size_t i = 0; i < G::out_plane; ++i) grad[from[i]] += d[i];
            }
        });
        return dx;
    }

private:
    typename Backend::template buffer<std::uint32_t> argmax_;
};

template <class InputShape, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW, class Backend>
class AvgPool2DImpl : public ParameterFreeImpl {
    using G = detail::PoolGeometry<InputShape, PoolH, PoolW, StrideH, StrideW>;
    static constexpr float scale = 1.0f / float(std::max<std::size_t>(1, PoolH * PoolW));

public:
    explicit AvgPool2DImpl(const auto&) {}

    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p) {
                const float* in = x + p * G::in_plane;
                float* out = y + p * G::out_plane;
                for (std::size_t oy = 0; oy < G::out_height; ++oy)
                    for (std::size_t ox = 0; ox < G::out_width; ++ox) {
                        const float* window = in + oy * StrideH * G::width + ox * StrideW;
                        float sum = 0.0f;
                        for (std::size_t ky = 0; ky < PoolH; ++ky)
                            for (std::size_t kx = 0; kx < PoolW; ++kx)
                                sum += window[ky * G::width + kx];
                        out[oy * G::out_width + ox] = sum * scale;
                    }
            }
        });
        return y;
    }

    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p) {
                float* grad = dx + p * G::in_plane;
                const float* d = dy + p * G::out_plane;
                std::fill(grad, grad + G::in_plane, 0.0f);
                for (std::size_t oy = 0; oy < G::out_height; ++oy)
                    for (std::size_t ox = 0; ox < G::out_width; ++ox) {
                        float* window = grad + oy * StrideH * G::width + ox * StrideW;
                        const float share = d[oy * G::out_width + ox] * scale;
                        for (std::size_t ky = 0; ky < PoolH; ++ky)
                            for (std::size_t kx = 0; kx < PoolW; ++kx)
                                window[ky * G::width + kx] += share;  // windows may overlap
                    }
            }
        });
        return dx;
    }
};

template <class InputShape, class Backend>
class GlobalAveragePoolImpl : public ParameterFreeImpl {
    using G = detail::PoolGeometry<InputShape, 1, 1, 1, 1>;
    static constexpr float scale = 1.0f / float(G::in_plane);

public:
    explicit GlobalAveragePoolImpl(const GlobalAveragePool&) {}

    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p) {
                const float* in = x + p * G::in_plane;
                float sum = 0.0f;
                for (std::size_t i = 0; i < G::in_plane; ++i) sum += in[i];
                y[p] = sum * scale;
            }
        });
        return y;
    }

    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        parallel_for(batch * G::channels, G::plane_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t p = first; p < last; ++p)
                std::fill(dx + p * G::in_plane, dx + (p + 1) * G::in_plane, dy[p] * scale);
        });
        return dx;
    }
};

} // namespace ctnn
