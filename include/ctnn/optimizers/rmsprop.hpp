// RMSprop with Keras's semantics (keras.optimizers.RMSprop, Keras >= 2.11):
//   ms = rho * ms + (1 - rho) * g^2
//   centered: mg = rho * mg + (1 - rho) * g;  denom = ms - mg^2 + eps   else denom = ms + eps
//   step = lr * g / sqrt(denom)
//   momentum > 0: mom = momentum * mom + step;  w -= mom      else w -= step
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "ctnn/core/buffer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/optimizers/clipping.hpp"

namespace ctnn {

class RMSprop {
public:
    explicit RMSprop(float learning_rate = 1e-3f, float rho = 0.9f, float momentum = 0.0f,
                     float epsilon = 1e-7f, bool centered = false)
        : learning_rate(learning_rate),
          rho(rho),
          momentum(momentum),
          epsilon(epsilon),
          centered(centered) {}

    float learning_rate;
    float rho;
    float momentum;
    float epsilon;
    bool centered;
    GradientClipping clipping;  // Keras's clipnorm, clipvalue, global_clipnorm

    void step(std::span<float> weights, std::span<const float> gradients) {
        const std::size_t n = weights.size();
        // Each state starts at zero the first time it is needed: `centered` and
        // `momentum` may be switched on between steps.
        if (mean_square_.size() != n) mean_square_.assign(n, 0.0f);
        if (centered && mean_gradient_.size() != n) mean_gradient_.assign(n, 0.0f);
        if (momentum > 0.0f && momentum_.size() != n) momentum_.assign(n, 0.0f);
        const float lr = learning_rate, rho = this->rho, eps = epsilon, mu = momentum;
        float *w = weights.data(), *ms = mean_square_.data(), *mg = mean_gradient_.data(),
              *mom = momentum_.data();
        const float* grad = gradients.data();
        const GradientClip clip = clipping.prepare(gradients);
        // One loop per variant keeps each free of branches, so it vectorises.
        auto update = [&](auto is_centered, auto has_momentum) {
            parallel_for(n, parallel_grain, [=](std::size_t first, std::size_t last) {
                for (std::size_t i = first; i < last; ++i) {
                    const float g = clip(grad[i]);
                    float denominator = ms[i] = rho * ms[i] + (1.0f - rho) * g * g;
                    if constexpr (is_centered) {
                        float average = mg[i] = rho * mg[i] + (1.0f - rho) * g;
                        denominator -= average * average;
                    }
                    float increment = lr * g / std::sqrt(denominator + eps);
                    if constexpr (has_momentum) increment = mom[i] = mu * mom[i] + increment;
                    w[i] -= increment;
                }
            });
        };
        using yes = std::true_type;
        using no = std::false_type;
        if (centered)
            momentum > 0.0f ? update(yes{}, yes{}) : update(yes{}, no{});
        else
            momentum > 0.0f ? update(no{}, yes{}) : update(no{}, no{});
    }

    // The per-weight state by name (empty until needed): what a checkpoint
    // saves and restores (io/save.hpp).
    template <class F>
    void for_each_slot(F&& f) {
        f("mean_square", mean_square_);
        f("mean_gradient", mean_gradient_);
        f("momentum", momentum_);
    }
    template <class F>
    void for_each_slot(F&& f) const {
        f("mean_square", mean_square_);
        f("mean_gradient", mean_gradient_);
        f("momentum", momentum_);
    }

private:
    AlignedVector<float> mean_square_;
    AlignedVector<float> mean_gradient_;
    AlignedVector<float> momentum_;
};

} // namespace ctnn
