// Adam and AdamW (decoupled weight decay), Keras's defaults and update:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
// AdamW first shrinks every weight: w -= lr * weight_decay * w.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ctnn/core/buffer.hpp"

namespace ctnn {

class Adam {
public:
    explicit Adam(float learning_rate = 1e-3f, float beta_1 = 0.9f, float beta_2 = 0.999f,
                  float epsilon = 1e-7f)
        : learning_rate(learning_rate), beta_1(beta_1), beta_2(beta_2), epsilon(epsilon) {}

    float learning_rate;
    float beta_1;
    float beta_2;
    float epsilon;

    void step(std::span<float> weights, std::span<const float> gradients) {
        update(weights, gradients, 0.0f);
    }

    std::uint64_t iterations() const { return iterations_; }

protected:
    void update(std::span<float> weights, std::span<const float> gradients, float decay) {
        const std::size_t n = weights.size();
        if (m_.size() != n) {
            m_.assign(n, 0.0f);
            v_.assign(n, 0.0f);
            iterations_ = 0;
        }
        ++iterations_;
        const double t = double(iterations_);
        const float lr = learning_rate;
        const float step_size = float(lr * std::sqrt(1.0 - std::pow(double(beta_2), t)) /
                                      (1.0 - std::pow(double(beta_1), t)));
        for (std::size_t i = 0; i < n; ++i) {
            const float g = gradients[i];
            if (decay != 0.0f) weights[i] -= lr * decay * weights[i];
            float m = m_[i] = beta_1 * m_[i] + (1.0f - beta_1) * g;
            float v = v_[i] = beta_2 * v_[i] + (1.0f - beta_2) * g * g;
            weights[i] -= step_size * m / (std::sqrt(v) + epsilon);
        }
    }

private:
    AlignedVector<float> m_;
    AlignedVector<float> v_;
    std::uint64_t iterations_ = 0;
};

class AdamW : public Adam {
public:
    explicit AdamW(float learning_rate = 1e-3f, float weight_decay = 0.004f,
                   float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-7f)
        : Adam(learning_rate, beta_1, beta_2, epsilon), weight_decay(weight_decay) {}

    float weight_decay;

    void step(std::span<float> weights, std::span<const float> gradients) {
        update(weights, gradients, weight_decay);
    }
};

} // namespace ctnn
