// Stochastic gradient descent with optional (Nesterov) momentum, Keras's update:
//   v = momentum * v - lr * g;  w += v                 (classical)
//   v = momentum * v - lr * g;  w += momentum * v - lr * g   (Nesterov)
#pragma once

#include <cstddef>
#include <span>

#include "ctnn/core/buffer.hpp"
#include "ctnn/core/parallel.hpp"

namespace ctnn {

class SGD {
public:
    explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false)
        : learning_rate(learning_rate), momentum(momentum), nesterov(nesterov) {}

    float learning_rate;
    float momentum;
    bool nesterov;

    void step(std::span<float> weights, std::span<const float> gradients) {
        const float lr = learning_rate, mu = momentum;
        float* w = weights.data();
        const float* g = gradients.data();
        if (momentum == 0.0f) {
            parallel_for(weights.size(), parallel_grain, [=](std::size_t first, std::size_t last) {
                for (std::size_t i = first; i < last; ++i) w[i] -= lr * g[i];
            });
            return;
        }
        if (velocity_.size() != weights.size()) velocity_.assign(weights.size(), 0.0f);
        float* velocity = velocity_.data();
        const bool look_ahead = nesterov;
        parallel_for(weights.size(), parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) {
                float v = velocity[i] = mu * velocity[i] - lr * g[i];
                w[i] += look_ahead ? mu * v - lr * g[i] : v;
            }
        });
    }

private:
    AlignedVector<float> velocity_;
};

} // namespace ctnn
