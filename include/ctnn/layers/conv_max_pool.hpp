// A convolution (with its activation) followed by MaxPool2D as one group. The
// convolution hands each chunk of its output to the pooling while the chunk is
// in cache, so the full-resolution activation is never written to memory; the
// backward pass rebuilds the convolution's output gradient from the pooled
// values and where their maxima were.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

// ConvImpl provides convolve() and convolve_backward() (see Conv2DImpl);
// Geometry is the pooling's detail::PoolGeometry over the convolution's output.
template <class ConvImpl, class Geometry, class Activation, class Backend>
class ConvMaxPoolImpl {
    static constexpr std::size_t filters = ConvImpl::output_channels;
    static constexpr std::size_t in_plane = Geometry::in_plane;
    static constexpr std::size_t out_plane = Geometry::out_plane;
    static_assert(Geometry::channels == filters && filters * in_plane == ConvImpl::output_size,
                  "ctnn: the pooling's input is not the convolution's output");

public:
    static constexpr std::size_t param_count = ConvImpl::param_count;

    template <class ConvLayer, class PoolLayer>
    ConvMaxPoolImpl(const ConvLayer& conv, const PoolLayer&, Activation activation = {})
        : conv_(conv), activation_(activation) {}

    void initialize(float* params, Rng& rng) { conv_.initialize(params, rng); }

    void reserve(std::size_t max_batch) {
        conv_.reserve(max_batch);
        if (argmax_.size() < max_batch * filters * out_plane)
            argmax_.resize(max_batch * filters * out_plane);
    }

    // As MaxPool2D after the activation: the first maximum of op(z + b) in
    // row-major window order wins, and its position is kept for backward.
    const float* forward(const Context&, const float* params, const float* x, float* y,
                         std::size_t batch) {
        reserve(batch);
        const float* bias = params + ConvImpl::kernel_size;
        std::uint32_t* argmax = argmax_.data();
        const Activation op = activation_;
        conv_.convolve(params, x, batch, [=](const float* z, std::size_t stride, std::size_t first,
                                             std::size_t count, std::size_t f_begin,
                                             std::size_t f_end) {
            for (std::size_t i = 0; i < count; ++i)
                for (std::size_t f = f_begin; f < f_end; ++f) {
                    const float* plane = z + (f - f_begin) * stride + i * in_plane;
                    const std::size_t at = ((first + i) * filters + f) * out_plane;
                    pool(plane, bias[f], op, y + at, argmax + at);
                }
        });
        return y;
    }

    float* backward(const Context&, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        const std::uint32_t* argmax = argmax_.data();
        const Activation op = activation_;
        return conv_.convolve_backward(params, grads, x, dx, batch,
                                       [=](float* dz, std::size_t first, std::size_t count) {
            std::fill_n(dz, filters * count * in_plane, 0.0f);
            for (std::size_t i = 0; i < count; ++i)
                for (std::size_t f = 0; f < filters; ++f) {
                    const std::size_t at = ((first + i) * filters + f) * out_plane;
                    float* to = dz + (f * count + i) * in_plane;
                    // Overlapping windows (stride < pool) may share a maximum.
                    for (std::size_t o = 0; o < out_plane; ++o)
                        to[argmax[at + o]] += dy[at + o] * op.derivative(y[at + o]);
                }
        });
    }

    float penalty(const float* params) const { return conv_.penalty(params); }

private:
    static void pool(const float* plane, float bias, Activation op, float* out,
                     std::uint32_t* from) {
        for (std::size_t oy = 0; oy < Geometry::out_height; ++oy)
            for (std::size_t ox = 0; ox < Geometry::out_width; ++ox) {
                const std::size_t corner =
                    oy * Geometry::stride_height * Geometry::width + ox * Geometry::stride_width;
                std::size_t best_at = corner;
                float best = op(plane[corner] + bias);
                for (std::size_t ky = 0; ky < Geometry::pool_height; ++ky)
                    for (std::size_t kx = 0; kx < Geometry::pool_width; ++kx) {
                        const std::size_t at = corner + ky * Geometry::width + kx;
                        const float value = op(plane[at] + bias);
                        if (value > best) {
                            best = value;
                            best_at = at;
                        }
                    }
                out[oy * Geometry::out_width + ox] = best;
                from[oy * Geometry::out_width + ox] = std::uint32_t(best_at);
            }
    }

    ConvImpl conv_;
    Activation activation_;
    typename Backend::template buffer<std::uint32_t> argmax_;
};

} // namespace ctnn
