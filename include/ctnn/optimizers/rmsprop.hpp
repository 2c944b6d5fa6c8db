// RMSprop with Keras's semantics (keras.optimizers.RMSprop, Keras >= 2.11):
//   ms = rho * ms + (1 - rho) * g^2
//   centered: mg = rho * mg + (1 - rho) * g;  denom = ms - mg^2 + eps   else denom = ms + eps
//   step = lr * g / sqrt(denom)
//   momentum > 0: mom = momentum * mom + step;  w -= mom      else w -= step
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "ctnn/core/buffer.hpp"

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

    void step(std::span<float> weights, std::span<const float> gradients) {
        const std::size_t n = weights.size();
        // Each state starts at zero the first time it is needed: `centered` and
        // `momentum` may be switched on between steps.
        if (mean_square_.size() != n) mean_square_.assign(n, 0.0f);
        if (centered && mean_gradient_.size() != n) mean_gradient_.assign(n, 0.0f);
        if (momentum > 0.0f && momentum_.size() != n) momentum_.assign(n, 0.0f);
        const float lr = learning_rate;
        for (std::size_t i = 0; i < n; ++i) {
            const float g = gradients[i];
            float denominator = mean_square_[i] = rho * mean_square_[i] + (1.0f - rho) * g * g;
            if (centered) {
                float mg = mean_gradient_[i] = rho * mean_gradient_[i] + (1.0f - rho) * g;
                denominator -= mg * mg;
            }
            float increment = lr * g / std::sqrt(denominator + epsilon);
            if (momentum > 0.0f) increment = momentum_[i] = momentum * momentum_[i] + increment;
            weights[i] -= increment;
        }
    }

private:
    AlignedVector<float> mean_square_;
    AlignedVector<float> mean_gradient_;
    AlignedVector<float> momentum_;
};

} // namespace ctnn
