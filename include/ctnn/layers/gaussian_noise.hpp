// GaussianNoise: adds zero-mean normal noise in training (a regulariser);
// at inference it passes its input on.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/activations.hpp"

namespace ctnn {

template <class InputShape, class Backend>
class GaussianNoiseImpl;

struct GaussianNoise : ElementwiseLayer<GaussianNoise> {
    static constexpr std::string_view type_name = "GaussianNoise";

    explicit GaussianNoise(float standard_deviation = 0.1f) : stddev(standard_deviation) {
        if (!(stddev >= 0.0f))
            throw std::invalid_argument("ctnn: GaussianNoise needs a non-negative stddev");
    }
    float stddev;

    template <class InputShape, class Backend>
    using impl = GaussianNoiseImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class GaussianNoiseImpl : public ParameterFreeImpl {
public:
    explicit GaussianNoiseImpl(const GaussianNoise& config) : stddev_(config.stddev) {}

    const float* forward(const Context& context, const float*, const float* x, float* y,
                         std::size_t batch) {
        if (!context.training() || stddev_ == 0.0f) return x;
        const std::uint64_t key = stream_key(context.seed, context.layer, context.step);
        for (std::size_t i = 0; i < batch * InputShape::size; ++i)
            y[i] = x[i] + stddev_ * normal_at(key, i);
        return y;
    }

    // The noise is additive: the gradient passes through unchanged.
    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t) {
        return dx ? dy : nullptr;
    }


private:
    float stddev_;
};

} // namespace ctnn
