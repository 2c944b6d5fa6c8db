// Dropout (inverted): in training, zeroes each value with probability `rate`
// and scales the survivors by 1/(1-rate); at inference it passes its input on.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/activations.hpp"

namespace ctnn {

template <class InputShape, class Backend>
class DropoutImpl;

struct Dropout : ElementwiseLayer<Dropout> {
    static constexpr std::string_view type_name = "Dropout";

    explicit Dropout(float drop_rate = 0.5f) : rate(drop_rate) {
        if (!(rate >= 0.0f && rate < 1.0f))
            throw std::invalid_argument("ctnn: Dropout rate must be in [0, 1)");
    }
    float rate;

    template <class InputShape, class Backend>
    using impl = DropoutImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class DropoutImpl : public ParameterFreeImpl {
public:
    explicit DropoutImpl(const Dropout& config) : rate_(config.rate) {}
    void reserve(std::size_t max_batch) { scale_.resize(max_batch * InputShape::size); }

    const float* forward(const Context& context, const float*, const float* x, float* y,
                         std::size_t batch) {
        if (!context.training() || rate_ == 0.0f) return x;
        const std::uint64_t key = stream_key(context.seed, context.layer, context.step);
        const float keep_scale = 1.0f / (1.0f - rate_), rate = rate_;
        float* scale = scale_.data();
        parallel_for(batch * InputShape::size, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) {
                scale[i] = uniform_at(key, i) >= rate ? keep_scale : 0.0f;
                y[i] = x[i] * scale[i];
            }
        });
        return y;
    }

    float* backward(const Context& context, const float*, float*, const float*, const float*,
                    float* dy, float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        if (!context.training() || rate_ == 0.0f) return dy;
        const float* scale = scale_.data();
        parallel_for(batch * InputShape::size, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) dy[i] *= scale[i];
        });
        return dy;
    }


private:
    float rate_;
    typename Backend::template buffer<float> scale_;
};

} // namespace ctnn
