// Softmax over the last axis: class probabilities for Shape<C>, one
// distribution per time step for Shape<T, C>.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/fast_math.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/activations.hpp"

namespace ctnn {

template <class InputShape, class Backend>
class SoftmaxImpl;

struct Softmax : ElementwiseLayer<Softmax> {
    static constexpr std::string_view type_name = "Softmax";
    template <class InputShape, class Backend>
    using impl = SoftmaxImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class SoftmaxImpl : public ParameterFreeImpl {
    static constexpr std::size_t width = InputShape::dims[InputShape::rank - 1];
    static constexpr std::size_t rows_per_sample = InputShape::size / width;

public:
    explicit SoftmaxImpl(const Softmax&) {}

    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        for (std::size_t r = 0; r < batch * rows_per_sample; ++r) {
            const float* in = x + r * width;
            float* out = y + r * width;
            float max = in[0];
            for (std::size_t c = 1; c < width; ++c) max = in[c] > max ? in[c] : max;
            float sum = 0.0f;
            for (std::size_t c = 0; c < width; ++c) sum += out[c] = fast::exp(in[c] - max);
            float inverse = 1.0f / sum;
            for (std::size_t c = 0; c < width; ++c) out[c] *= inverse;
        }
        return y;
    }

    // dx = y * (dy - sum(dy * y)) per row.
    float* backward(const Context&, const float*, float*, const float*, const float* y,
                    float* dy, float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        for (std::size_t r = 0; r < batch * rows_per_sample; ++r) {
            const float* p = y + r * width;
            float* g = dy + r * width;
            float dot = 0.0f;
            for (std::size_t c = 0; c < width; ++c) dot += g[c] * p[c];
            for (std::size_t c = 0; c < width; ++c) g[c] = p[c] * (g[c] - dot);
        }
        return dy;
    }

};

} // namespace ctnn
