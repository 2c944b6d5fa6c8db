// GaussianNoise: adds zero-mean normal noise in training (a regulariser);
// at inference it passes its input on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/activations.hpp"

namespace ctnn {

namespace detail {

// first: the values before this process's samples in a data-parallel
// batch, so that the noise is what a single process adds (as DropoutMask).
template <class Key>
struct AddNoise {
    Key key;
    std::size_t first;
    float stddev;
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        y[i] = x[i] + stddev * normal_at(key(), first + i);
    }
};

} // namespace detail

template <class InputShape, class Backend>
class GaussianNoiseImpl;

struct GaussianNoise : ElementwiseLayer {
    static constexpr std::string_view type_name = "GaussianNoise";

    constexpr explicit GaussianNoise(float standard_deviation = 0.1f) : stddev(standard_deviation) {
        if (!(stddev >= 0.0f))
            throw std::invalid_argument("ctnn: GaussianNoise needs a non-negative stddev");
    }
    float stddev;

    template <class InputShape, class Backend>
    using impl = GaussianNoiseImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class GaussianNoiseImpl {
public:
    explicit GaussianNoiseImpl(const GaussianNoise& config) : stddev_(config.stddev) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const Context& context = call.context;
        if (!context.training() || stddev_ == 0.0f) return x;
        with_step_key(context.draw_key(), [&](auto key) {
            call.backend.for_each(call.batch * InputShape::size,
                                  detail::AddNoise<decltype(key)>{key, context.sample_offset * InputShape::size,
                                                                  stddev_, x, y});
        });
        return y;
    }

    // The noise is additive: the gradient passes through unchanged.
    float* backward(const LayerCall<Backend>&, const float*, const float*, float* dy, float* dx) {
        return dx ? dy : nullptr;
    }

private:
    float stddev_;
};

} // namespace ctnn
