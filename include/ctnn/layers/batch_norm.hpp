// BatchNorm: normalises each channel to zero mean and unit variance over the
// batch, then scales by gamma and shifts by beta (Keras's BatchNormalization).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/fusion_rules.hpp"

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

// Channels visited together: with inner == 1 a block's values for one
// position are one cache line.
inline constexpr std::size_t norm_block = 16;

// Calls f(channel, index) for every value of channels [begin, end), each
// channel's values in the same order (sample, outer, inner) whatever the
// partition: sums do not depend on the thread count.
template <class Axes, class F>
CTNN_HOST_DEVICE void visit_channels(std::size_t begin, std::size_t end, std::size_t batch, F&& f) {
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t o = 0; o < Axes::outer; ++o) {
            const std::size_t base = (n * Axes::outer + o) * Axes::channels * Axes::inner;
            for (std::size_t c = begin; c < end; ++c)
                for (std::size_t s = 0; s < Axes::inner; ++s) f(c, base + c * Axes::inner + s);
        }
}

// Adds term(c, i) over every value i of channels [begin, end) into
// sums[c - begin], each channel's values in the same order whatever the
// partition. A run of Axes::inner contiguous values is first summed in
// sum_lanes interleaved partial sums: a strict left-to-right sum is one chain
// of dependent additions, which no compiler vectorises (on a Zen 3, summing
// the statistics one value at a time took a fifth of fashion_cnn's training).
inline constexpr std::size_t sum_lanes = 8;
template <class Axes, class Term>
CTNN_HOST_DEVICE void sum_channels(std::size_t begin, std::size_t end, std::size_t batch, double* sums,
                                   Term&& term) {
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t o = 0; o < Axes::outer; ++o) {
            const std::size_t base = (n * Axes::outer + o) * Axes::channels * Axes::inner;
            for (std::size_t c = begin; c < end; ++c) {
                const std::size_t first = base + c * Axes::inner;
                if constexpr (Axes::inner < sum_lanes) {
                    for (std::size_t s = 0; s < Axes::inner; ++s) sums[c - begin] += term(c, first + s);
                } else {
                    double lane[sum_lanes] = {};
                    std::size_t s = 0;
                    for (; s + sum_lanes <= Axes::inner; s += sum_lanes)
                        for (std::size_t j = 0; j < sum_lanes; ++j) lane[j] += term(c, first + s + j);
                    for (std::size_t j = 0; s + j < Axes::inner; ++j) lane[j] += term(c, first + s + j);
                    double total = 0.0;
                    for (std::size_t j = 0; j < sum_lanes; ++j) total += lane[j];
                    sums[c - begin] += total;
                }
            }
        }
}

// Per channel of one block, over this process's values: the sum of x, or,
// given the global batch's sums, the sum of squares of x minus the global
// mean. Two passes, as NormalizeBlock takes them, for synchronised statistics.
template <class Axes>
struct ChannelMoments {
    const float* x;
    std::size_t batch;
    const double* global_sums;  // null: sum x
    double global_count;
    double* out;

    CTNN_HOST_DEVICE void operator()(std::size_t block) const {
        const std::size_t begin = block * norm_block;
        const std::size_t end = begin + norm_block < Axes::channels ? begin + norm_block : Axes::channels;
        double sum[norm_block] = {}, centre[norm_block] = {};
        if (global_sums)
            for (std::size_t c = begin; c < end; ++c) centre[c - begin] = global_sums[c] / global_count;
        sum_channels<Axes>(begin, end, batch, sum, [&](std::size_t c, std::size_t i) {
            const double d = x[i] - centre[c - begin];
            return global_sums ? d * d : d;
        });
        for (std::size_t c = begin; c < end; ++c) out[c] = sum[c - begin];
    }
};

// Normalises one block of channels: with the batch's statistics in training
// (and then moves the running ones once), else with the running ones. With
// global moments (sums of x and centred squares over every process's
// values, ChannelMoments), the batch is the data-parallel global batch.
template <class Axes>
struct NormalizeBlock {
    const float* x;
    float* y;
    const float* gamma;
    const float* beta;
    float* mean;         // this forward's, for backward
    float* inverse_std;  // 1 / sqrt(variance + epsilon)
    float* running_mean;
    float* running_variance;
    std::size_t batch;
    bool training;
    double epsilon, momentum;
    const double* global_sums = nullptr;     // with global_squares: the global batch's moments
    const double* global_squares = nullptr;
    std::size_t global_count = 0;

    CTNN_HOST_DEVICE void operator()(std::size_t block) const {
        const std::size_t begin = block * norm_block;
        const std::size_t end = begin + norm_block < Axes::channels ? begin + norm_block : Axes::channels;
        const std::size_t count = global_sums ? global_count : batch * Axes::outer * Axes::inner;
        if (training) {
            const double bessel = count > 1 ? double(count) / double(count - 1) : 1.0;
            double centre[norm_block], squares[norm_block] = {};
            if (global_sums) {
                for (std::size_t c = begin; c < end; ++c) {
                    centre[c - begin] = global_sums[c] / double(count);
                    squares[c - begin] = global_squares[c];
                }
            } else {
                double sum[norm_block] = {};
                sum_channels<Axes>(begin, end, batch, sum, [&](std::size_t, std::size_t i) { return double(x[i]); });
                for (std::size_t c = begin; c < end; ++c) centre[c - begin] = sum[c - begin] / double(count);
                // Two passes: the squares of centred values do not cancel.
                sum_channels<Axes>(begin, end, batch, squares, [&](std::size_t c, std::size_t i) {
                    const double d = x[i] - centre[c - begin];
                    return d * d;
                });
            }
            for (std::size_t c = begin; c < end; ++c) {
                const double variance = squares[c - begin] / double(count);
                mean[c] = float(centre[c - begin]);
                inverse_std[c] = float(1.0 / std::sqrt(variance + epsilon));
                running_mean[c] = float(momentum * running_mean[c] + (1.0 - momentum) * centre[c - begin]);
                running_variance[c] =
                    float(momentum * running_variance[c] + (1.0 - momentum) * variance * bessel);
            }
        } else {
            for (std::size_t c = begin; c < end; ++c) {
                mean[c] = running_mean[c];
                inverse_std[c] = float(1.0 / std::sqrt(double(running_variance[c]) + epsilon));
            }
        }
        // y = gamma / std * (x - mean) + beta. Centring first keeps the
        // precision when |mean| is much larger than std.
        float scale[norm_block];
        for (std::size_t c = begin; c < end; ++c) scale[c - begin] = gamma[c] * inverse_std[c];
        visit_channels<Axes>(begin, end, batch, [&](std::size_t c, std::size_t i) {
            y[i] = (x[i] - mean[c]) * scale[c - begin] + beta[c];
        });
    }
};

// Training: the full gradient through the batch mean and variance,
//   dx = gamma / std / N * (N dy - sum(dy) - x-hat sum(dy x-hat)).
// Inference: the statistics are constants, dx = gamma / std * dy.
// Both write dgamma = sum(dy x-hat) and dbeta = sum(dy).
//
// Synchronised statistics take two calls: the first (local_sums set) writes
// dgamma, dbeta and this process's sums of dy and dy x-hat (channels each);
// the second (global_sums set: those sums over every process) writes dx,
// with N the global batch's values. dgamma and dbeta stay this process's
// part, which the gradients' all-reduce adds up.
template <class Axes>
struct NormalizeBlockGradient {
    const float* x;
    const float* dy;
    float* dx;  // may be null
    const float* gamma;
    float* dgamma;
    float* dbeta;
    const float* mean;
    const float* inverse_std;
    std::size_t batch;
    bool training;
    double* local_sums = nullptr;
    const double* global_sums = nullptr;
    std::size_t global_count = 0;

    CTNN_HOST_DEVICE void operator()(std::size_t block) const {
        const std::size_t begin = block * norm_block;
        const std::size_t end = begin + norm_block < Axes::channels ? begin + norm_block : Axes::channels;
        const std::size_t count = global_sums ? global_count : batch * Axes::outer * Axes::inner;
        double sum_dy[norm_block] = {}, sum_dy_xhat[norm_block] = {};
        if (global_sums) {
            for (std::size_t c = begin; c < end; ++c) {
                sum_dy[c - begin] = global_sums[c];
                sum_dy_xhat[c - begin] = global_sums[Axes::channels + c];
            }
        } else {
            sum_channels<Axes>(begin, end, batch, sum_dy, [&](std::size_t, std::size_t i) { return double(dy[i]); });
            sum_channels<Axes>(begin, end, batch, sum_dy_xhat, [&](std::size_t c, std::size_t i) {
                return dy[i] * ((double(x[i]) - mean[c]) * inverse_std[c]);
            });
            for (std::size_t c = begin; c < end; ++c) {
                dgamma[c] = float(sum_dy_xhat[c - begin]);
                dbeta[c] = float(sum_dy[c - begin]);
            }
        }
        if (local_sums) {
            for (std::size_t c = begin; c < end; ++c) {
                local_sums[c] = sum_dy[c - begin];
                local_sums[Axes::channels + c] = sum_dy_xhat[c - begin];
            }
            return;
        }
        if (!dx) return;
        // dx = a dy + b (x - mean) + k per channel, the formula above with
        // x-hat = (x - mean) / std; b = k = 0 at inference.
        float a[norm_block], b[norm_block] = {}, k[norm_block] = {};
        for (std::size_t c = begin; c < end; ++c) {
            const double s = double(gamma[c]) * inverse_std[c];
            a[c - begin] = float(s);
            if (training) {
                const double n = double(count);
                b[c - begin] = float(-s * inverse_std[c] * sum_dy_xhat[c - begin] / n);
                k[c - begin] = float(-s * sum_dy[c - begin] / n);
            }
        }
        visit_channels<Axes>(begin, end, batch, [&](std::size_t c, std::size_t i) {
            dx[i] = a[c - begin] * dy[i] + b[c - begin] * (x[i] - mean[c]) + k[c - begin];
        });
    }
};

// gamma / sqrt(running variance + epsilon): BatchNorm's scale at inference.
struct InferenceScale {
    const float* gamma;
    const float* running_variance;
    double epsilon;
    float* scale;
    CTNN_HOST_DEVICE void operator()(std::size_t c) const {
        scale[c] = gamma[c] * float(1.0 / std::sqrt(double(running_variance[c]) + epsilon));
    }
};

} // namespace detail

template <class InputShape, class Backend>
class BatchNormImpl;

// Parameters: gamma then beta, one per channel. State (kept, not trained):
// the running mean and running variance, one per channel.
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
//
// After a Dense or Conv2D layer, BatchNorm runs in its group: at inference as
// the per-channel affine map (x - mean) * gamma / std + beta in the
// producer's epilogue; in training on its own, between the producer and the
// rest of the group, since it needs the batch's statistics.
struct BatchNorm {
    float momentum = 0.99f;
    float epsilon = 1e-3f;

    // Keras's class name, so that summaries read "batch_normalization".
    static constexpr std::string_view type_name = "BatchNormalization";
    using fusion_role = fusion::normalization;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(detail::norm_axes<InputShape>::supported,
                      "ctnn: BatchNorm needs a rank-1 (features), rank-2 (steps, features) or "
                      "rank-3 (channels, height, width) input");
        return InputShape{};
    }
    template <class InputShape>
    constexpr auto parameters() const {
        constexpr std::size_t channels = detail::norm_axes<InputShape>::channels;
        return std::array{ParameterArray{"gamma", dims(channels), Layout::vector, Initializer::ones},
                          ParameterArray{"beta", dims(channels)}};
    }
    template <class InputShape>
    constexpr auto state() const {
        constexpr std::size_t channels = detail::norm_axes<InputShape>::channels;
        return std::array{StateArray{"moving_mean", dims(channels), 0.0f},
                          StateArray{"moving_variance", dims(channels), 1.0f}};
    }
    template <class InputShape, class Backend>
    using impl = BatchNormImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class BatchNormImpl {
    using axes = detail::norm_axes<InputShape>;
    static constexpr std::size_t channels = axes::channels;
    static constexpr std::size_t blocks = (channels + detail::norm_block - 1) / detail::norm_block;

public:
    explicit BatchNormImpl(const BatchNorm& config) : momentum_(config.momentum), epsilon_(config.epsilon) {
        if (!(momentum_ >= 0.0f && momentum_ <= 1.0f))
            throw std::invalid_argument("ctnn: BatchNorm momentum must be in [0, 1]");
        if (!(epsilon_ > 0.0f)) throw std::invalid_argument("ctnn: BatchNorm epsilon must be positive");
        mean_.resize(channels);
        inverse_std_.resize(channels);
        scale_.resize(channels);
        moments_.resize(2 * channels);
    }

    // The per-forward state (mean and 1/std per channel) does not grow with
    // the batch: backward recomputes x-hat from x.
    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const bool training = call.context.training();
        if (training) scale_version_.reset();  // the running statistics move
        detail::NormalizeBlock<axes> normalize{x, y, gamma(call), beta(call), mean_.data(),
                                               inverse_std_.data(), running_mean(call),
                                               running_variance(call), call.batch, training,
                                               epsilon_, momentum_};
        if (synchronised(call)) {
            // The global batch's moments: its sums, then its centred squares.
            const BatchStatisticsSum& across = *call.context.batch_statistics;
            double* sums = moments_.data();
            double* squares = sums + channels;
            const std::size_t count = global_count(call);
            call.backend.for_each(blocks, detail::ChannelMoments<axes>{x, call.batch, nullptr, 0.0, sums},
                                  cost(call.batch));
            across.all_reduce_sum(sums, channels);
            call.backend.for_each(blocks,
                                  detail::ChannelMoments<axes>{x, call.batch, sums, double(count), squares},
                                  cost(call.batch));
            across.all_reduce_sum(squares, channels);
            normalize.global_sums = sums;
            normalize.global_squares = squares;
            normalize.global_count = count;
        }
        call.backend.for_each(blocks, normalize, cost(call.batch));
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float* x, const float*, float* dy, float* dx) {
        detail::NormalizeBlockGradient<axes> gradient{x, dy, dx, gamma(call), call.grads,
                                                      call.grads + channels, mean_.data(),
                                                      inverse_std_.data(), call.batch,
                                                      call.context.training()};
        if (synchronised(call)) {
            gradient.local_sums = moments_.data();
            call.backend.for_each(blocks, gradient, cost(call.batch));
            call.context.batch_statistics->all_reduce_sum(moments_.data(), 2 * channels);
            if (!dx) return nullptr;
            gradient.local_sums = nullptr;
            gradient.global_sums = moments_.data();
            gradient.global_count = global_count(call);
        }
        call.backend.for_each(blocks, gradient, cost(call.batch));
        return dx;
    }

    // In a fused group: in training BatchNorm runs on its own, with the
    // batch's statistics; at inference it is an epilogue stage, with a scale
    // computed once per change of the weights.
    bool splits(const Context& context) const { return context.training(); }

    epilogue::Normalize stage(const LayerCall<Backend>& call) {
        const Cached now{call.version, call.params, call.state};
        if (scale_version_ != now) {
            call.backend.for_each(channels, detail::InferenceScale{gamma(call), running_variance(call),
                                                                   epsilon_, scale_.data()});
            scale_version_ = now;
        }
        return {running_mean(call), scale_.data(), beta(call)};
    }

private:
    // What the inference scale was computed from.
    struct Cached {
        std::uint64_t version = 0;
        const float* params = nullptr;
        const float* state = nullptr;
        bool operator==(const Cached&) const = default;
    };

    static const float* gamma(const LayerCall<Backend>& call) { return call.params; }
    static const float* beta(const LayerCall<Backend>& call) { return call.params + channels; }
    static float* running_mean(const LayerCall<Backend>& call) { return call.state; }
    static float* running_variance(const LayerCall<Backend>& call) { return call.state + channels; }

    // Statistics over a data-parallel global batch (Context::batch_statistics).
    static bool synchronised(const LayerCall<Backend>& call) {
        return call.context.training() && call.context.batch_statistics != nullptr;
    }
    static std::size_t global_count(const LayerCall<Backend>& call) {
        return call.context.global_batch * axes::outer * axes::inner;
    }

    // The values one block of channels visits.
    static std::size_t cost(std::size_t batch) {
        return batch * axes::outer * axes::inner * detail::norm_block;
    }

    float momentum_;
    float epsilon_;
    typename Backend::template buffer<float> mean_;         // last forward's, for backward
    typename Backend::template buffer<float> inverse_std_;  // 1 / sqrt(variance + epsilon)
    typename Backend::template buffer<float> scale_;        // gamma / sqrt(running variance + epsilon)
    typename Backend::template buffer<double> moments_;     // synchronised statistics' sums
    std::optional<Cached> scale_version_;
};

} // namespace ctnn
