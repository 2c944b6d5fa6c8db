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
// bias. Convolution runs as GEMMs over im2col columns on the backend
// (backend/generic/convolution.hpp; the CPU's runs per-thread, cache-sized
// chunks). It produces planes: the bias and whatever the layers fused after
// it contribute (a BatchNorm's affine map, an activation, a max-pool) run on
// each (sample, filter) plane of its output while that is in cache.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/backend/generic/convolution.hpp"
#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/layers/fusion_rules.hpp"

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

// The convolution's geometry over an input shape.
template <class InputShape, std::size_t Filters, Size2 Kernel, Size2 Stride, PaddingMode Padding>
struct conv_geometry {
    static constexpr std::size_t channels = extent_or_one<InputShape>(0);
    static constexpr std::size_t height = extent_or_one<InputShape>(1);
    static constexpr std::size_t width = extent_or_one<InputShape>(2);
    static constexpr ConvAxis rows = conv_axis(height, Kernel.height, Stride.height, Padding);
    static constexpr ConvAxis cols = conv_axis(width, Kernel.width, Stride.width, Padding);
    using type = convolution::Geometry<channels, height, width, Filters, Kernel.height, Kernel.width,
                                       Stride.height, Stride.width, rows.pad_before, cols.pad_before,
                                       rows.output, cols.output>;
};

} // namespace detail

template <class Geometry, class Backend>
class Conv2DImpl;

template <std::size_t Filters, auto Kernel, auto Stride = 1, auto Padding = valid>
struct Conv2D {
    static constexpr Size2 kernel = detail::as_size2(Kernel);
    static constexpr Size2 stride = detail::as_size2(Stride);
    static constexpr PaddingMode padding = detail::as_padding(Padding);

    Initializer kernel_initializer = Initializer::glorot_uniform;
    float l2 = 0.0f;  // kernel regulariser: adds l2 * sum(W^2) to the loss

    static constexpr std::string_view type_name = "Conv2D";
    using fusion_role = fusion::planes;

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
    constexpr auto parameters() const {
        return std::array{
            ParameterArray{"kernel",
                           dims(Filters, detail::extent_or_one<InputShape>(0), kernel.height, kernel.width),
                           Layout::filters_first, kernel_initializer, l2},
            ParameterArray{"bias", dims(Filters)}};
    }
    template <class InputShape, class Backend>
    using impl = Conv2DImpl<
        typename detail::conv_geometry<InputShape, Filters, kernel, stride, padding>::type, Backend>;
};

template <class G, class Backend>
class Conv2DImpl
    : public epilogue::Producer<Conv2DImpl<G, Backend>, epilogue::Planes<G::filters, G::pixels>, Backend> {
public:
    template <class Layer>
    explicit Conv2DImpl(const Layer&) {}

    epilogue::Bias bias_stage(const LayerCall<Backend>& call) const {
        // Named first: nvcc's front end rejects the sum as a braced initialiser.
        const float* bias = call.params + G::kernel_size;
        return {bias};
    }

    // y = the sink over conv(x)'s planes.
    template <class Sink>
    void produce(const LayerCall<Backend>& call, const float* x, float* y, const Sink& sink) {
        convolution::forward<G>(call.backend, call.params, x, y, call.batch, workspace(call.backend), sink);
    }

    // The kernel and bias gradients, and dx unless it is null, from the
    // sink's gradient of each plane.
    template <class Sink>
    float* produce_backward(const LayerCall<Backend>& call, const float* x, const float* y,
                            float* dy, float* dx, const Sink& sink) {
        convolution::backward<G>(call.backend, call.params, x, y, dy, dx, call.grads,
                                 call.grads + G::kernel_size, call.batch, workspace(call.backend), sink);
        return dx;
    }

private:
    // The backend's workspace does not grow with the batch, but may with the
    // thread count: checked on every call.
    float* workspace(const Backend& backend) {
        const std::size_t size = convolution::workspace_size<G>(backend);
        if (workspace_.size() < size) workspace_.resize(size);
        return workspace_.data();
    }

    typename Backend::template buffer<float> workspace_;
};

} // namespace ctnn
