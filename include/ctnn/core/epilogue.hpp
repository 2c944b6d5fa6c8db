// Epilogues: what a producer (Dense, Conv2D) does with its raw output while
// it is in cache. An epilogue is a chain of element-wise stages (the bias, a
// BatchNorm's affine map at inference, an activation) ending in a sink that
// writes the result (stored as is, pooled, normalised per row, added to a
// shortcut). Stages and sinks are functors that run on every backend.
//
// A producer cuts its output into planes and hands the sink one plane at a
// time: a Conv2D's (sample, filter) images, a Dense layer's rows.
//
//   forward(z, plane, y)       z: the plane's raw values; y: the whole output
//   backward(dy, y, plane, dz) dy, y: the whole output's gradient and values;
//                              dz: where the plane's raw gradient goes
//
// Backward runs the chain in reverse. A stage's derivative may use its own
// output, which is known only for the chain's last stage (the sink's input),
// so every earlier stage must be `value_independent`.
#pragma once

#include <cstddef>
#include <utility>

#include "ctnn/core/config.hpp"
#include "ctnn/core/layer.hpp"

namespace ctnn::epilogue {

// A producer's output as planes of `length` values: a Conv2D's image planes,
// one channel each (plane p is channel p % Channels), or rows whose values
// are one channel each (a Dense layer's units).
template <std::size_t Channels, std::size_t Pixels>
struct Planes {
    static constexpr std::size_t length = Pixels;
    static constexpr bool one_channel = true;
    CTNN_HOST_DEVICE static constexpr std::size_t channel(std::size_t plane, std::size_t) {
        return plane % Channels;
    }
};
template <std::size_t Width>
struct Rows {
    static constexpr std::size_t length = Width;
    static constexpr bool one_channel = false;
    CTNN_HOST_DEVICE static constexpr std::size_t channel(std::size_t, std::size_t j) { return j; }
};

// The stages: value (of channel c, at output index i) -> value. at(c) is
// the same stage for channel c alone, its per-channel values read once: what
// a sink over one channel's plane runs in its inner loops.
struct ChannelBias {
    static constexpr bool value_independent = true;
    float bias;
    CTNN_HOST_DEVICE float forward(float v, std::size_t, std::size_t) const { return v + bias; }
    CTNN_HOST_DEVICE float backward(float g, float, std::size_t, std::size_t) const { return g; }
    CTNN_HOST_DEVICE ChannelBias at(std::size_t) const { return *this; }
};
struct Bias {
    static constexpr bool value_independent = true;
    const float* bias;
    CTNN_HOST_DEVICE float forward(float v, std::size_t c, std::size_t) const { return v + bias[c]; }
    CTNN_HOST_DEVICE float backward(float g, float, std::size_t, std::size_t) const { return g; }
    CTNN_HOST_DEVICE ChannelBias at(std::size_t c) const { return {bias[c]}; }
};

// (v - centre) * scale + shift: BatchNorm with its running statistics.
struct ChannelNormalize {
    static constexpr bool value_independent = true;
    float centre, scale, shift;
    CTNN_HOST_DEVICE float forward(float v, std::size_t, std::size_t) const { return (v - centre) * scale + shift; }
    CTNN_HOST_DEVICE float backward(float g, float, std::size_t, std::size_t) const { return g * scale; }
    CTNN_HOST_DEVICE ChannelNormalize at(std::size_t) const { return *this; }
};
struct Normalize {
    static constexpr bool value_independent = true;
    const float* centre;
    const float* scale;
    const float* shift;
    CTNN_HOST_DEVICE float forward(float v, std::size_t c, std::size_t) const {
        return (v - centre[c]) * scale[c] + shift[c];
    }
    CTNN_HOST_DEVICE float backward(float g, float, std::size_t c, std::size_t) const {
        return g * scale[c];
    }
    CTNN_HOST_DEVICE ChannelNormalize at(std::size_t c) const { return {centre[c], scale[c], shift[c]}; }
};

// An element-wise activation (core/elementwise.hpp): its derivative comes
// from its output.
template <class Op>
struct Activate {
    static constexpr bool value_independent = false;
    Op op;
    CTNN_HOST_DEVICE float forward(float v, std::size_t, std::size_t) const { return op(v); }
    CTNN_HOST_DEVICE float backward(float g, float out, std::size_t, std::size_t) const {
        return g * op.derivative(out);
    }
    CTNN_HOST_DEVICE Activate at(std::size_t) const { return *this; }
};

// Stages applied in order. folded_backward() leaves out the last stage's
// derivative: a loss folded into the output activation already took it.
template <class... Stages>
struct Chain;
template <class First, class... Rest>
CTNN_HOST_DEVICE constexpr Chain<First, Rest...> prepend(const First& first, const Chain<Rest...>& rest);

template <>
struct Chain<> {
    CTNN_HOST_DEVICE Chain at(std::size_t) const { return {}; }
    CTNN_HOST_DEVICE float forward(float v, std::size_t, std::size_t) const { return v; }
    CTNN_HOST_DEVICE float backward(float g, float, std::size_t, std::size_t) const { return g; }
    CTNN_HOST_DEVICE float folded_backward(float g, std::size_t, std::size_t) const { return g; }
};

template <class First, class... Rest>
struct Chain<First, Rest...> {
    static_assert(sizeof...(Rest) == 0 || First::value_independent,
                  "ctnn: only the last stage of an epilogue may need its output for its derivative");
    First first;
    Chain<Rest...> rest;

    // The chain for channel c alone.
    CTNN_HOST_DEVICE auto at(std::size_t c) const { return prepend(first.at(c), rest.at(c)); }
    CTNN_HOST_DEVICE float forward(float v, std::size_t c, std::size_t i) const {
        return rest.forward(first.forward(v, c, i), c, i);
    }
    // `out` is the chain's output, which the last stage's derivative may use.
    CTNN_HOST_DEVICE float backward(float g, float out, std::size_t c, std::size_t i) const {
        return first.backward(rest.backward(g, out, c, i), out, c, i);
    }
    CTNN_HOST_DEVICE float folded_backward(float g, std::size_t c, std::size_t i) const {
        if constexpr (sizeof...(Rest) == 0)
            return g;
        else
            return first.backward(rest.folded_backward(g, c, i), 0.0f, c, i);
    }
};

// A chain of one stage; that stage before a chain.
template <class Stage>
CTNN_HOST_DEVICE constexpr Chain<Stage> chain(const Stage& stage) {
    return {stage, {}};
}
template <class First, class... Rest>
CTNN_HOST_DEVICE constexpr Chain<First, Rest...> prepend(const First& first, const Chain<Rest...>& rest) {
    return {first, rest};
}

// The plain sink: each value through the chain, stored in place of the plane.
// With `folded` set, backward leaves out the last stage's derivative.
template <class Layout, class Stages>
struct Store {
    static constexpr std::size_t in_length = Layout::length;
    static constexpr std::size_t out_length = Layout::length;
    Stages stages;
    bool folded = false;

    CTNN_HOST_DEVICE void forward(const float* z, std::size_t plane, float* y) const {
        const std::size_t base = plane * in_length;
        float* out = y + base;
        if constexpr (Layout::one_channel) {
            const std::size_t c = Layout::channel(plane, 0);
            const auto channel = stages.at(c);
            for (std::size_t j = 0; j < in_length; ++j) out[j] = channel.forward(z[j], c, base + j);
        } else {
            for (std::size_t j = 0; j < in_length; ++j)
                out[j] = stages.forward(z[j], Layout::channel(plane, j), base + j);
        }
    }

    CTNN_HOST_DEVICE void backward(const float* dy, const float* y, std::size_t plane,
                                   float* dz) const {
        if constexpr (Layout::one_channel)
            gradient(stages.at(Layout::channel(plane, 0)), dy, y, plane, dz);
        else
            gradient(stages, dy, y, plane, dz);
    }

private:
    template <class Chain>
    CTNN_HOST_DEVICE void gradient(const Chain& chain, const float* dy, const float* y,
                                   std::size_t plane, float* dz) const {
        const std::size_t base = plane * in_length;
        if (folded) {
            for (std::size_t j = 0; j < in_length; ++j)
                dz[j] = chain.folded_backward(dy[base + j], Layout::channel(plane, j), base + j);
        } else {
            for (std::size_t j = 0; j < in_length; ++j)
                dz[j] = chain.backward(dy[base + j], y[base + j], Layout::channel(plane, j), base + j);
        }
    }
};

template <class Layout, class Stages>
constexpr Store<Layout, Stages> store(const Stages& stages) {
    return {stages};
}

// Runs a sink over `count` contiguous planes of z: how a layer applies an
// epilogue to a tensor it did not produce (a MaxPool2D on its own, the
// stages after a BatchNorm that needs batch statistics).
template <class Sink>
struct ForwardPlanes {
    Sink sink;
    const float* z;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t plane) const {
        sink.forward(z + plane * Sink::in_length, plane, y);
    }
};
template <class Sink>
struct BackwardPlanes {
    Sink sink;
    const float* dy;
    const float* y;
    float* dz;
    CTNN_HOST_DEVICE void operator()(std::size_t plane) const {
        sink.backward(dy, y, plane, dz + plane * Sink::in_length);
    }
};

template <class Backend, class Sink>
void run_forward(const Backend& backend, const Sink& sink, const float* z, float* y,
                 std::size_t planes) {
    backend.for_each(planes, ForwardPlanes<Sink>{sink, z, y}, Sink::in_length);
}
template <class Backend, class Sink>
void run_backward(const Backend& backend, const Sink& sink, const float* dy, const float* y,
                  float* dz, std::size_t planes) {
    backend.for_each(planes, BackwardPlanes<Sink>{sink, dy, y, dz}, Sink::in_length);
}

// What a producer (Dense, Conv2D) runs on its own, outside a fused group:
// its bias, stored. Derived provides bias_stage(), produce() and
// produce_backward() (core/fused_group.hpp).
template <class Derived, class Layout, class Backend>
class Producer {
public:
    using layout = Layout;
    // The sink of a producer on its own; its gradient is dy itself.
    using plain = Store<Layout, Chain<Bias>>;

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        self().produce(call, x, y, plain_sink(call));
        return y;
    }
    float* backward(const LayerCall<Backend>& call, const float* x, const float* y, float* dy,
                    float* dx) {
        return self().produce_backward(call, x, y, dy, dx, plain_sink(call));
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    plain plain_sink(const LayerCall<Backend>& call) { return {chain(self().bias_stage(call))}; }
};

} // namespace ctnn::epilogue
