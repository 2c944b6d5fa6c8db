// A convolution followed by BatchNorm (and an activation) as one group. In
// training the three run one after another, since BatchNorm needs the batch
// statistics of the convolution's output. At inference BatchNorm is a fixed
// affine map per channel, so it folds into the kernel and bias:
//   W'[f] = W[f] * s[f],  b'[f] = (b[f] - mean[f]) * s[f] + beta[f],
//   s[f] = gamma[f] / sqrt(running_variance[f] + epsilon)
// and the group is a single convolution pass with the activation fused.
#pragma once

#include <cmath>
#include <cstddef>

#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

// ConvImpl provides forward_with/backward_with(op, ...) and its kernel as
// `output_channels` rows of `kernel_size / output_channels` values followed
// by one bias per row; NormImpl normalises those same channels.
template <class ConvImpl, class NormImpl, class Activation, class Backend>
class FoldedBatchNormImpl {
    static constexpr std::size_t channels = ConvImpl::output_channels;
    static constexpr std::size_t kernel_size = ConvImpl::kernel_size;
    static constexpr std::size_t row = kernel_size / channels;
    static constexpr std::size_t conv_params = ConvImpl::param_count;
    static constexpr std::size_t output_size = ConvImpl::output_size;
    static_assert(NormImpl::param_count == 2 * channels,
                  "ctnn: BatchNorm folds into a convolution only over its output channels");

public:
    static constexpr std::size_t param_count = conv_params + NormImpl::param_count;

    template <class ConvLayer, class NormLayer>
    FoldedBatchNormImpl(const ConvLayer& conv, const NormLayer& norm, Activation activation = {})
        : conv_(conv), norm_(norm), activation_(activation), folded_(conv_params) {}

    // The same draws, in the same order, as the unfused layers.
    void initialize(float* params, Rng& rng) {
        conv_.initialize(params, rng);
        norm_.initialize(params + conv_params, rng);
    }

    void reserve(std::size_t max_batch) {
        conv_.reserve(max_batch);
        norm_.reserve(max_batch);
        if (max_batch * output_size > convolved_.size()) {
            convolved_.resize(max_batch * output_size);
            normalised_gradient_.resize(max_batch * output_size);
        }
    }

    const float* forward(const Context& context, const float* params, const float* x, float* y,
                         std::size_t batch) {
        reserve(batch);
        folded_last_ = !context.training();
        if (folded_last_) {
            fold(params);
            conv_.forward_with(activation_, folded_.data(), x, y, batch);
            return y;
        }
        forward_unfolded(context, params, x, y, batch);
        return y;
    }

    float* backward(const Context& context, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        // A folded forward kept no intermediate values: run the layers again
        // (inference mode leaves the running statistics alone).
        if (folded_last_) forward_unfolded(context, params, x, normalised_gradient_.data(), batch);
        const std::size_t n = batch * output_size;
        if constexpr (!ops::is_identity<Activation>)
            Backend::activation_backward(y, dy, dy, n, activation_);
        float* d_convolved =
            norm_.backward(context, params + conv_params, grads + conv_params, convolved_.data(),
                           nullptr, dy, normalised_gradient_.data(), batch);
        return conv_.backward_with(ops::Identity{}, params, grads, x, convolved_.data(),
                                   d_convolved, dx, batch);
    }

    float penalty(const float* params) const { return conv_.penalty(params); }

    // The BatchNorm's running statistics (its non-trainable state).
    template <class F>
    void for_each_state(F&& f) {
        norm_.for_each_state(f);
    }
    template <class F>
    void for_each_state(F&& f) const {
        norm_.for_each_state(f);
    }

private:
    void forward_unfolded(const Context& context, const float* params, const float* x, float* y,
                          std::size_t batch) {
        conv_.forward_with(ops::Identity{}, params, x, convolved_.data(), batch);
        norm_.forward(context, params + conv_params, convolved_.data(), y, batch);
        if constexpr (!ops::is_identity<Activation>)
            Backend::activation(y, y, batch * output_size, activation_);
    }

    void fold(const float* params) {
        const float* gamma = params + conv_params;
        const float* beta = gamma + channels;
        const float* mean = norm_.running_mean().data();
        const float* variance = norm_.running_variance().data();
        const double epsilon = norm_.epsilon();
        for (std::size_t f = 0; f < channels; ++f) {
            const float scale = float(gamma[f] / std::sqrt(double(variance[f]) + epsilon));
            const float* from = params + f * row;
            float* to = folded_.data() + f * row;
            for (std::size_t j = 0; j < row; ++j) to[j] = from[j] * scale;
            folded_[kernel_size + f] = (params[kernel_size + f] - mean[f]) * scale + beta[f];
        }
    }

    ConvImpl conv_;
    NormImpl norm_;
    Activation activation_;
    bool folded_last_ = false;
    typename Backend::template buffer<float> folded_;               // W', b'
    typename Backend::template buffer<float> convolved_;            // conv(x) + b
    typename Backend::template buffer<float> normalised_gradient_;  // d(loss)/d(conv(x) + b)
};

} // namespace ctnn
