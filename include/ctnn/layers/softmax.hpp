// Softmax over the last axis: class probabilities for Shape<C>, one
// distribution per time step for Shape<T, C>. After a Dense layer it is the
// sink of the GEMM's epilogue; at a network's output a cross-entropy loss
// folds into it, and backward starts from p - t.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fast_math.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/layers/activations.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

namespace detail {

// The sink: each row through the stages, then normalised to a distribution.
// With `folded`, dy already is the gradient of the softmax's input.
template <std::size_t Width, class Stages>
struct SoftmaxRows {
    static constexpr std::size_t in_length = Width;
    static constexpr std::size_t out_length = Width;
    Stages stages;
    bool folded = false;

    CTNN_HOST_DEVICE void forward(const float* z, std::size_t row, float* y) const {
        const std::size_t base = row * Width;
        float* out = y + base;
        for (std::size_t c = 0; c < Width; ++c) out[c] = stages.forward(z[c], c, base + c);
        float max = out[0];
        for (std::size_t c = 1; c < Width; ++c) max = out[c] > max ? out[c] : max;
        float sum = 0.0f;
        for (std::size_t c = 0; c < Width; ++c) sum += out[c] = fast::exp(out[c] - max);
        const float inverse = 1.0f / sum;
        for (std::size_t c = 0; c < Width; ++c) out[c] *= inverse;
    }

    // dz = p * (dy - sum(dy * p)) per row, then the stages' derivatives.
    CTNN_HOST_DEVICE void backward(const float* dy, const float* y, std::size_t row, float* dz) const {
        const std::size_t base = row * Width;
        const float* p = y + base;
        const float* g = dy + base;
        float dot = 0.0f;
        if (!folded)
            for (std::size_t c = 0; c < Width; ++c) dot += g[c] * p[c];
        for (std::size_t c = 0; c < Width; ++c) {
            const float d = folded ? g[c] : p[c] * (g[c] - dot);
            dz[c] = stages.backward(d, 0.0f, c, base + c);
        }
    }
};

} // namespace detail

template <class InputShape, class Backend>
class SoftmaxImpl;

struct Softmax : ElementwiseLayer {
    static constexpr std::string_view type_name = "Softmax";
    using fusion_role = fusion::distribution;
    template <class InputShape, class Backend>
    using impl = SoftmaxImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class SoftmaxImpl {
    static constexpr std::size_t width = InputShape::dims[InputShape::rank - 1];
    static constexpr std::size_t rows_per_sample = InputShape::size / width;
    using plain = detail::SoftmaxRows<width, epilogue::Chain<>>;

public:
    explicit SoftmaxImpl(const Softmax&) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        epilogue::run_forward(call.backend, plain{}, x, y, call.batch * rows_per_sample);
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float* y, float* dy,
                    float* dx) {
        if (!dx) return nullptr;
        if (!call.folded_output)
            epilogue::run_backward(call.backend, plain{}, dy, y, dy, call.batch * rows_per_sample);
        return dy;
    }

    // In a fused group: the sink of a producer's rows.
    template <class Layout, class Stages>
    detail::SoftmaxRows<width, Stages> sink(const LayerCall<Backend>&, const Stages& stages) const {
        static_assert(Layout::length == width, "ctnn: a fused Softmax needs its producer's rows");
        return {stages};
    }
};

} // namespace ctnn
