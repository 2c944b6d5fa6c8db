// Dropout (inverted): in training, zeroes each value with probability `rate`
// and scales the survivors by 1/(1-rate); at inference it passes its input on.
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

// Element i's mask comes from (key, first + i) alone: the same on every
// backend, and, with first = the values before this process's samples in a
// data-parallel batch, the same as in a single process.
template <class Key>
struct DropoutMask {
    Key key;
    std::size_t first;
    float rate;
    float keep_scale;
    const float* x;
    float* y;
    float* scale;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        scale[i] = uniform_at(key(), first + i) >= rate ? keep_scale : 0.0f;
        y[i] = x[i] * scale[i];
    }
};

struct ScaleGradient {
    const float* scale;
    float* dy;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { dy[i] = dy[i] * scale[i]; }
};

} // namespace detail

template <class InputShape, class Backend>
class DropoutImpl;

struct Dropout : ElementwiseLayer {
    static constexpr std::string_view type_name = "Dropout";

    constexpr explicit Dropout(float drop_rate = 0.5f) : rate(drop_rate) {
        if (!(rate >= 0.0f && rate < 1.0f))
            throw std::invalid_argument("ctnn: Dropout rate must be in [0, 1)");
    }
    float rate;

    template <class InputShape, class Backend>
    using impl = DropoutImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class DropoutImpl {
public:
    explicit DropoutImpl(const Dropout& config) : rate_(config.rate) {}
    void reserve(const Backend&, std::size_t max_batch) { scale_.resize(max_batch * InputShape::size); }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const Context& context = call.context;
        if (!context.training() || rate_ == 0.0f) return x;
        with_step_key(context.draw_key(), [&](auto key) {
            call.backend.for_each(call.batch * InputShape::size,
                                  detail::DropoutMask<decltype(key)>{key, context.sample_offset * InputShape::size,
                                                                     rate_, 1.0f / (1.0f - rate_), x, y,
                                                                     scale_.data()});
        });
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        if (!dx) return nullptr;
        if (!call.context.training() || rate_ == 0.0f) return dy;
        call.backend.for_each(call.batch * InputShape::size, detail::ScaleGradient{scale_.data(), dy});
        return dy;
    }

private:
    float rate_;
    typename Backend::template buffer<float> scale_;
};

} // namespace ctnn
