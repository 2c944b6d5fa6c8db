// BatchNorm: normalises each channel to zero mean and unit variance over the
// batch, then scales by gamma and shifts by beta (Keras's BatchNormalization).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/folded_batch_norm.hpp"

namespace ctnn {

namespace detail {

// Where the normalised axis sits in one sample: a sample is `outer` blocks of
// `channels` runs of `inner` contiguous values, and statistics are taken per
// channel over (batch, outer, inner).
//   Shape<F>       -> 1 x F x 1      per feature
//   Shape<T, F>    -> T x F x 1      per last axis, as Keras's default axis=-1
//   Shape<C, H, W> -> 1 x C x H*W    per channel, channels-first
// Other ranks are refused in BatchNorm::output_shape(); they get the
// channels-first reading here so that the impl still compiles and that
// static_assert stays the only error.
template <class S, std::size_t Rank = S::rank>
struct norm_axes {
    static constexpr bool supported = false;
    static constexpr std::size_t outer = 1;
    static constexpr std::size_t channels = Rank > 0 && S::dims[0] > 0 ? S::dims[0] : 1;
    static constexpr std::size_t inner = S::size / channels;
};
template <class S>
struct norm_axes<S, 1> {
    static constexpr bool supported = true;
    static constexpr std::size_t outer = 1, channels = S::dims[0], inner = 1;
};
template <class S>
struct norm_axes<S, 2> {
    static constexpr bool supported = true;
    static constexpr std::size_t outer = S::dims[0], channels = S::dims[1], inner = 1;
};
template <class S>
struct norm_axes<S, 3> {
    static constexpr bool supported = true;
    static constexpr std::size_t outer = 1, channels = S::dims[0], inner = S::dims[1] * S::dims[2];
};

} // namespace detail

template <class InputShape, class Backend>
class BatchNormImpl;

// Parameters (trainable, in the network's buffer): gamma then beta, one per
// channel. State (not trainable, held by the impl): running mean and running
// variance, one per channel.
//
// momentum follows Keras: running = momentum * running + (1 - momentum) * batch.
// PyTorch's `momentum` weighs the new batch instead, so its 0.1 is Keras's 0.9.
//
// Training (Context::training()): each forward normalises with the batch mean
// and the biased batch variance (divide by N, the values per channel), and
// then updates the running statistics once. The running variance takes the
// unbiased variance, N/(N-1) times the biased one, as PyTorch and tf.keras's
// fused kernel do (Keras 3 and tf.keras's unfused path take the biased one);
// with N = 1 it takes the biased one, 0, rather than dividing by zero.
// Inference normalises with the running statistics and changes nothing.
struct BatchNorm {
    float momentum = 0.99f;
    float epsilon = 1e-3f;

    // Keras's class name, so that summaries read "batch_normalization".
    static constexpr std::string_view type_name = "BatchNormalization";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(detail::norm_axes<InputShape>::supported,
                      "ctnn: BatchNorm needs a rank-1 (features), rank-2 (steps, features) or "
                      "rank-3 (channels, height, width) input");
        return InputShape{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 2 * detail::norm_axes<InputShape>::channels;
    // Running mean and variance: state that saving and summaries account for.
    template <class InputShape>
    static constexpr std::size_t non_trainable_count = 2 * detail::norm_axes<InputShape>::channels;
    template <class InputShape, class Backend>
    using impl = BatchNormImpl<InputShape, Backend>;

    // After a Conv2D (and before its activation) BatchNorm runs inside the
    // convolution's group and folds into its kernel at inference.
    static constexpr bool folds_into_preceding = true;
    template <class InputShape, class Backend, class PrecedingImpl, class Activation>
    using fused_impl =
        FoldedBatchNormImpl<PrecedingImpl, BatchNormImpl<InputShape, Backend>, Activation, Backend>;
};

template <class InputShape, class Backend>
class BatchNormImpl {
    using axes = detail::norm_axes<InputShape>;
    static constexpr std::size_t outer = axes::outer;
    static constexpr std::size_t channels = axes::channels;
    static constexpr std::size_t inner = axes::inner;
    static constexpr std::size_t sample = InputShape::size;
    // Channels visited together: with inner == 1 a block's values for one
    // position are one cache line.
    static constexpr std::size_t block = 16;

public:
    static constexpr std::size_t param_count = 2 * channels;

    explicit BatchNormImpl(const BatchNorm& config)
        : momentum_(config.momentum),
          epsilon_(config.epsilon),
          running_(2 * channels, 1.0f),
          mean_(channels),
          inverse_std_(channels) {
        if (!(momentum_ >= 0.0f && momentum_ <= 1.0f))
            throw std::invalid_argument("ctnn: BatchNorm momentum must be in [0, 1]");
        if (!(epsilon_ > 0.0f))
            throw std::invalid_argument("ctnn: BatchNorm epsilon must be positive");
        std::fill_n(running_.begin(), channels, 0.0f);  // mean 0, variance 1
    }

    // gamma = 1, beta = 0; a fresh start also forgets the running statistics,
    // which is why this is not const.
    void initialize(float* params, Rng&) {
        std::fill(params, params + channels, 1.0f);
        std::fill(params + channels, params + 2 * channels, 0.0f);
        std::fill_n(running_.begin(), channels, 0.0f);
        std::fill_n(running_.begin() + channels, channels, 1.0f);
    }

    // The per-forward state (mean and 1/std per channel) does not grow with the
    // batch: backward recomputes x-hat from x.
    void reserve(std::size_t) {}

    const float* forward(const Context& context, const float* params, const float* x, float* y,
                         std::size_t batch) {
        const float* gamma = params;
        const float* beta = params + channels;
        float* mean = mean_.data();
        float* inverse_std = inverse_std_.data();
        float* running_mean = running_.data();
        float* running_variance = running_.data() + channels;
        const std::size_t count = batch * outer * inner;
        const bool training = context.training();
        const double epsilon = epsilon_, momentum = momentum_;
        const double bessel = count > 1 ? double(count) / double(count - 1) : 1.0;
        parallel_for(channels, grain(batch), [=](std::size_t first, std::size_t last) {
            for (std::size_t begin = first; begin < last; begin += block) {
                const std::size_t end = std::min(last, begin + block);
                if (training) {
                    double sum[block] = {};
                    visit(begin, end, batch,
                          [&](std::size_t c, std::size_t i) { sum[c - begin] += x[i]; });
                    double centre[block], squares[block] = {};
                    for (std::size_t c = begin; c < end; ++c)
                        centre[c - begin] = sum[c - begin] / double(count);
                    // Two passes: the squares of centred values do not cancel.
                    visit(begin, end, batch, [&](std::size_t c, std::size_t i) {
                        const double d = x[i] - centre[c - begin];
                        squares[c - begin] += d * d;
                    });
                    for (std::size_t c = begin; c < end; ++c) {
                        const double variance = squares[c - begin] / double(count);
                        mean[c] = float(centre[c - begin]);
                        inverse_std[c] = float(1.0 / std::sqrt(variance + epsilon));
                        running_mean[c] = float(momentum * running_mean[c] +
                                                (1.0 - momentum) * centre[c - begin]);
                        running_variance[c] = float(momentum * running_variance[c] +
                                                    (1.0 - momentum) * variance * bessel);
                    }
                } else {
                    for (std::size_t c = begin; c < end; ++c) {
                        mean[c] = running_mean[c];
                        inverse_std[c] =
                            float(1.0 / std::sqrt(double(running_variance[c]) + epsilon));
                    }
                }
                // y = gamma / std * (x - mean) + beta. Centring first keeps the
                // precision when |mean| is much larger than std.
                float scale[block];
                for (std::size_t c = begin; c < end; ++c)
                    scale[c - begin] = gamma[c] * inverse_std[c];
                visit(begin, end, batch, [&](std::size_t c, std::size_t i) {
                    y[i] = (x[i] - mean[c]) * scale[c - begin] + beta[c];
                });
            }
        });
        return y;
    }

    // Training: the full gradient through the batch mean and variance,
    //   dx = gamma / std / N * (N dy - sum(dy) - x-hat sum(dy x-hat)).
    // Inference: the statistics are constants, dx = gamma / std * dy.
    // Both write dgamma = sum(dy x-hat) and dbeta = sum(dy).
    float* backward(const Context& context, const float* params, float* grads, const float* x,
                    const float*, float* dy, float* dx, std::size_t batch) {
        const float* gamma = params;
        float* dgamma = grads;
        float* dbeta = grads + channels;
        const float* mean = mean_.data();
        const float* inverse_std = inverse_std_.data();
        const std::size_t count = batch * outer * inner;
        const bool training = context.training();
        parallel_for(channels, grain(batch), [=](std::size_t first, std::size_t last) {
            for (std::size_t begin = first; begin < last; begin += block) {
                const std::size_t end = std::min(last, begin + block);
                double sum_dy[block] = {}, sum_dy_xhat[block] = {};
                visit(begin, end, batch, [&](std::size_t c, std::size_t i) {
                    const double xhat = (double(x[i]) - mean[c]) * inverse_std[c];
                    sum_dy[c - begin] += dy[i];
                    sum_dy_xhat[c - begin] += dy[i] * xhat;
                });
                for (std::size_t c = begin; c < end; ++c) {
                    dgamma[c] = float(sum_dy_xhat[c - begin]);
                    dbeta[c] = float(sum_dy[c - begin]);
                }
                if (!dx) continue;
                // dx = a dy + b (x - mean) + k per channel, the formula above
                // with x-hat = (x - mean) / std; b = k = 0 at inference.
                float a[block], b[block] = {}, k[block] = {};
                for (std::size_t c = begin; c < end; ++c) {
                    const double s = double(gamma[c]) * inverse_std[c];
                    a[c - begin] = float(s);
                    if (training) {
                        const double n = double(count);
                        b[c - begin] = float(-s * inverse_std[c] * sum_dy_xhat[c - begin] / n);
                        k[c - begin] = float(-s * sum_dy[c - begin] / n);
                    }
                }
                visit(begin, end, batch, [&](std::size_t c, std::size_t i) {
                    dx[i] = a[c - begin] * dy[i] + b[c - begin] * (x[i] - mean[c]) + k[c - begin];
                });
            }
        });
        return dx;
    }

    float penalty(const float*) const { return 0.0f; }

    float epsilon() const { return epsilon_; }
    std::span<float> running_mean() { return std::span<float>(running_).first(channels); }
    std::span<const float> running_mean() const {
        return std::span<const float>(running_).first(channels);
    }
    std::span<float> running_variance() { return std::span<float>(running_).last(channels); }
    std::span<const float> running_variance() const {
        return std::span<const float>(running_).last(channels);
    }

    // The non-trainable state, for saving: running mean, then running variance.
    template <class F>
    void for_each_state(F&& f) {
        f(std::span<float>(running_));
    }
    template <class F>
    void for_each_state(F&& f) const {
        f(std::span<const float>(running_));
    }

private:
    // Calls f(channel, index) for every value of channels [begin, end), each
    // channel's values in the same order (sample, outer, inner) whatever the
    // partition: sums do not depend on the thread count.
    template <class F>
    static void visit(std::size_t begin, std::size_t end, std::size_t batch, F&& f) {
        for (std::size_t n = 0; n < batch; ++n)
            for (std::size_t o = 0; o < outer; ++o) {
                const std::size_t base = n * sample + o * channels * inner;
                for (std::size_t c = begin; c < end; ++c)
                    for (std::size_t s = 0; s < inner; ++s) f(c, base + c * inner + s);
            }
    }

    // Channels per thread below which waking threads costs more than it saves.
    static std::size_t grain(std::size_t batch) {
        const std::size_t per_channel = std::max<std::size_t>(1, batch * outer * inner);
        return std::max<std::size_t>(1, parallel_grain / per_channel);
    }

    float momentum_;
    float epsilon_;
    typename Backend::template buffer<float> running_;  // mean, then variance
    typename Backend::template buffer<float> mean_;         // last forward's, for backward
    typename Backend::template buffer<float> inverse_std_;  // 1 / sqrt(variance + epsilon)
};

} // namespace ctnn
