// Stochastic gradient descent with optional (Nesterov) momentum, Keras's update:
//   v = momentum * v - lr * g;  w += v                 (classical)
//   v = momentum * v - lr * g;  w += momentum * v - lr * g   (Nesterov)
#pragma once

#include <cstddef>
#include <span>

#include "ctnn/core/buffer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/optimizers/clipping.hpp"

namespace ctnn {

class SGD {
public:
    explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false)
        : learning_rate(learning_rate), momentum(momentum), nesterov(nesterov) {}

    float learning_rate;
    float momentum;
    bool nesterov;
    GradientClipping clipping;  // Keras's clipnorm, clipvalue, global_clipnorm

    void step(std::span<float> weights, std::span<const float> gradients) {
        const float lr = learning_rate, mu = momentum;
        float* w = weights.data();
        const float* g = gradients.data();
        const GradientClip clip = clipping.prepare(gradients);
        if (momentum == 0.0f) {
            parallel_for(weights.size(), parallel_grain, [=](std::size_t first, std::size_t last) {
                for (std::size_t i = first; i < last; ++i) w[i] -= lr * clip(g[i]);
            });
            return;
        }
        if (velocity_.size() != weights.size()) velocity_.assign(weights.size(), 0.0f);
        float* velocity = velocity_.data();
        const bool look_ahead = nesterov;
        parallel_for(weights.size(), parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) {
                const float gi = clip(g[i]);
                float v = velocity[i] = mu * velocity[i] - lr * gi;
                w[i] += look_ahead ? mu * v - lr * gi : v;
            }
        });
    }

    // The per-weight state by name (empty without momentum): what a
    // checkpoint saves and restores (io/save.hpp).
    template <class F>
    void for_each_slot(F&& f) {
        f("velocity", velocity_);
    }
    template <class F>
    void for_each_slot(F&& f) const {
        f("velocity", velocity_);
    }

private:
    AlignedVector<float> velocity_;
};

} // namespace ctnn
