// Stochastic gradient descent with optional (Nesterov) momentum, Keras's update:
//   v = momentum * v - lr * g;  w += v                 (classical)
//   v = momentum * v - lr * g;  w += momentum * v - lr * g   (Nesterov)
#pragma once

#include <cstddef>
#include <span>

#include "ctnn/core/buffer.hpp"

namespace ctnn {

class SGD {
public:
    explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false)
        : learning_rate(learning_rate), momentum(momentum), nesterov(nesterov) {}

    float learning_rate;
    float momentum;
    bool nesterov;

    void step(std::span<float> weights, std::span<const float> gradients) {
        const float lr = learning_rate;
        if (momentum == 0.0f) {
            for (std::size_t i = 0; i < weights.size(); ++i) weights[i] -= lr * gradients[i];
            return;
        }
        if (velocity_.size() != weights.size()) velocity_.assign(weights.size(), 0.0f);
        for (std::size_t i = 0; i < weights.size(); ++i) {
            float v = velocity_[i] = momentum * velocity_[i] - lr * gradients[i];
            weights[i] += nesterov ? momentum * v - lr * gradients[i] : v;
        }
    }

private:
    AlignedVector<float> velocity_;
};

} // namespace ctnn
