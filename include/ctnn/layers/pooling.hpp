// Pooling over the two spatial axes of a channels-first Shape<C, H, W>:
// MaxPool2D and AvgPool2D slide a window ("valid" padding, as Keras's
// default), GlobalAveragePool averages each channel's plane to one value.
// Each window kind is a sink over image planes (core/epilogue.hpp), so the
// same kernel runs on a layer's input and, fused, in a convolution's epilogue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

namespace detail {

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

    CTNN_HOST_DEVICE static constexpr std::size_t corner(std::size_t o) {
        return o / out_width * StrideH * width + o % out_width * StrideW;
    }
};

// The window maximum of each plane's values through the stages; the first
// maximum in row-major window order wins and keeps the gradient, from the
// position kept in `argmax`.
template <class G, class Stages>
struct MaxWindows {
    static constexpr std::size_t in_length = G::in_plane;
    static constexpr std::size_t out_length = G::out_plane;
    Stages stages;
    std::uint32_t* argmax;
    bool folded = false;

    CTNN_HOST_DEVICE void forward(const float* z, std::size_t plane, float* y) const {
        const std::size_t c = plane % G::channels, base = plane * G::in_plane;
        const auto channel = stages.at(c);
        float* out = y + plane * G::out_plane;
        std::uint32_t* from = argmax + plane * G::out_plane;
        // Selects rather than branches, so that a row of windows runs in
        // vectors (a Conv2D's ReLU and pooling at batch 1 were scalar).
        for (std::size_t oy = 0; oy < G::out_height; ++oy)
            for (std::size_t ox = 0; ox < G::out_width; ++ox) {
                const auto corner = std::uint32_t(oy * G::stride_height * G::width + ox * G::stride_width);
                std::uint32_t best_at = corner;
                float best = channel.forward(z[corner], c, base + corner);
                for (std::size_t ky = 0; ky < G::pool_height; ++ky)
                    for (std::size_t kx = 0; kx < G::pool_width; ++kx) {
                        const auto at = std::uint32_t(corner + ky * G::width + kx);
                        const float value = channel.forward(z[at], c, base + at);
                        const bool better = value > best;  // strictly: the first maximum wins
                        best = better ? value : best;
                        best_at = better ? at : best_at;
                    }
                out[oy * G::out_width + ox] = best;
                from[oy * G::out_width + ox] = best_at;
            }
    }

    CTNN_HOST_DEVICE void backward(const float* dy, const float* y, std::size_t plane, float* dz) const {
        const std::size_t c = plane % G::channels, base = plane * G::out_plane;
        const auto channel = stages.at(c);
        const std::uint32_t* from = argmax + base;
        for (std::size_t i = 0; i < G::in_plane; ++i) dz[i] = 0.0f;
        // Overlapping windows (stride < pool) may share a maximum.
        for (std::size_t o = 0; o < G::out_plane; ++o)
            dz[from[o]] += folded ? channel.folded_backward(dy[base + o], c, base + o)
                                  : channel.backward(dy[base + o], y[base + o], c, base + o);
    }
};

// The window mean of each plane's values; on its own only (no stages).
template <class G, class Stages>
struct MeanWindows {
    static constexpr std::size_t in_length = G::in_plane;
    static constexpr std::size_t out_length = G::out_plane;
    static constexpr float scale = 1.0f / float(G::pool_height * G::pool_width);
    Stages stages;
    bool folded = false;

    CTNN_HOST_DEVICE void forward(const float* z, std::size_t plane, float* y) const {
        float* out = y + plane * G::out_plane;
        for (std::size_t o = 0; o < G::out_plane; ++o) {
            const float* window = z + G::corner(o);
            float sum = 0.0f;
            for (std::size_t ky = 0; ky < G::pool_height; ++ky)
                for (std::size_t kx = 0; kx < G::pool_width; ++kx) sum += window[ky * G::width + kx];
            out[o] = sum * scale;
        }
    }

    CTNN_HOST_DEVICE void backward(const float* dy, const float*, std::size_t plane, float* dz) const {
        const float* d = dy + plane * G::out_plane;
        for (std::size_t i = 0; i < G::in_plane; ++i) dz[i] = 0.0f;
        for (std::size_t o = 0; o < G::out_plane; ++o) {
            float* window = dz + G::corner(o);
            const float share = d[o] * scale;
            for (std::size_t ky = 0; ky < G::pool_height; ++ky)
                for (std::size_t kx = 0; kx < G::pool_width; ++kx)
                    window[ky * G::width + kx] += share;  // windows may overlap
        }
    }
};

// The window kinds: their names, their sinks, and whether they fuse.
struct MaxWindow {
    static constexpr std::string_view type_name = "MaxPooling2D";
    using fusion_role = fusion::pooling;
    static constexpr bool keeps_argmax = true;
    template <class G, class Stages>
    static MaxWindows<G, Stages> sink(const Stages& stages, std::uint32_t* argmax) {
        return {stages, argmax};
    }
};
struct MeanWindow {
    static constexpr std::string_view type_name = "AveragePooling2D";
    using fusion_role = fusion::none;
    static constexpr bool keeps_argmax = false;
    template <class G, class Stages>
    static MeanWindows<G, Stages> sink(const Stages& stages, std::uint32_t*) {
        return {stages};
    }
};

template <class Kind, class G, class Backend>
class Pool2DImpl;

} // namespace detail

// Pool2D<Kind, Pool, Stride>: a Pool x Pool window moved by Stride; spelt
// MaxPool2D (on a tie the first maximum in row-major window order takes the
// gradient) or AvgPool2D.
template <class Kind, std::size_t Pool, std::size_t Stride>
struct Pool2D {
    static constexpr std::string_view type_name = Kind::type_name;
    using fusion_role = typename Kind::fusion_role;

    // Each check holds when an earlier one failed, and a failed layer passes
    // its input shape on, so the layers after it see what they would see
    // without it: one mistake, one error.
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        using G = detail::PoolGeometry<InputShape, Pool, Pool, Stride, Stride>;
        static_assert(G::positive, "ctnn: 2-D pooling needs a pool size and a stride of at least 1");
        static_assert(!G::positive || G::is_image,
                      "ctnn: 2-D pooling needs a Shape<channels, height, width> input");
        static_assert(!G::positive || !G::is_image || G::fits,
                      "ctnn: the pooling window is larger than its input");
        if constexpr (G::valid)
            return typename G::output_shape{};
        else
            return InputShape{};
    }
    template <class InputShape, class Backend>
    using impl =
        detail::Pool2DImpl<Kind, detail::PoolGeometry<InputShape, Pool, Pool, Stride, Stride>, Backend>;
};

template <std::size_t Pool, std::size_t Stride = Pool>
using MaxPool2D = Pool2D<detail::MaxWindow, Pool, Stride>;
template <std::size_t Pool, std::size_t Stride = Pool>
using AvgPool2D = Pool2D<detail::MeanWindow, Pool, Stride>;

namespace detail {

template <class Kind, class G, class Backend>
class Pool2DImpl {
public:
    template <class Layer>
    explicit Pool2DImpl(const Layer&) {}

    // Max-pooling's backward needs where each maximum came from.
    void reserve(const Backend&, std::size_t max_batch) {
        if constexpr (Kind::keeps_argmax) argmax_.resize(max_batch * G::channels * G::out_plane);
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        epilogue::run_forward(call.backend, plain(), x, y, call.batch * G::channels);
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float* y, float* dy,
                    float* dx) {
        if (!dx) return nullptr;
        epilogue::run_backward(call.backend, plain(), dy, y, dx, call.batch * G::channels);
        return dx;
    }

    // In a fused group: the sink of a convolution's planes.
    template <class Layout, class Stages>
    auto sink(const LayerCall<Backend>&, const Stages& stages) {
        static_assert(Layout::length == G::in_plane, "ctnn: a fused pooling needs its producer's planes");
        return Kind::template sink<G>(stages, argmax());
    }

private:
    auto plain() { return Kind::template sink<G>(epilogue::Chain<>{}, argmax()); }
    std::uint32_t* argmax() {
        if constexpr (Kind::keeps_argmax)
            return argmax_.data();
        else
            return nullptr;
    }

    typename Backend::template buffer<std::uint32_t> argmax_;
};

template <class G>
struct PlaneMeans {
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t p) const {
        float sum = 0.0f;
        for (std::size_t i = 0; i < G::in_plane; ++i) sum += x[p * G::in_plane + i];
        y[p] = sum * (1.0f / float(G::in_plane));
    }
};

template <class G>
struct PlaneMeansGradient {
    const float* dy;
    float* dx;
    CTNN_HOST_DEVICE void operator()(std::size_t p) const {
        const float share = dy[p] * (1.0f / float(G::in_plane));
        for (std::size_t i = 0; i < G::in_plane; ++i) dx[p * G::in_plane + i] = share;
    }
};

template <class InputShape, class Backend>
class GlobalAveragePoolImpl;

} // namespace detail

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
    template <class InputShape, class Backend>
    using impl = detail::GlobalAveragePoolImpl<InputShape, Backend>;
};

namespace detail {

template <class InputShape, class Backend>
class GlobalAveragePoolImpl {
    using G = PoolGeometry<InputShape, 1, 1, 1, 1>;

public:
    explicit GlobalAveragePoolImpl(const GlobalAveragePool&) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        call.backend.for_each(call.batch * G::channels, PlaneMeans<G>{x, y}, G::in_plane);
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        if (!dx) return nullptr;
        call.backend.for_each(call.batch * G::channels, PlaneMeansGradient<G>{dy, dx}, G::in_plane);
        return dx;
    }
};

} // namespace detail

} // namespace ctnn
