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
#include "ctnn/core/parallel.hpp"
#include "ctnn/optimizers/clipping.hpp"

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
    GradientClipping clipping;  // Keras's clipnorm, clipvalue, global_clipnorm

    void step(std::span<float> weights, std::span<const float> gradients) {
        update(weights, gradients, 0.0f);
    }

    std::uint64_t iterations() const { return iterations_; }

    // The per-weight state by name, empty before the first step, and the step
    // count: what a checkpoint saves and restores (io/save.hpp).
    template <class F>
    void for_each_slot(F&& f) {
        f("m", m_);
        f("v", v_);
    }
    template <class F>
    void for_each_slot(F&& f) const {
        f("m", m_);
        f("v", v_);
    }
    void set_iterations(std::uint64_t iterations) { iterations_ = iterations; }

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
        const float b1 = beta_1, b2 = beta_2, eps = epsilon, shrink = lr * decay;
        float *w = weights.data(), *m = m_.data(), *v = v_.data();
        const float* grad = gradients.data();
        const GradientClip clip = clipping.prepare(gradients);
        parallel_for(n, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) {
                const float g = clip(grad[i]);
                w[i] -= shrink * w[i];
                m[i] = b1 * m[i] + (1.0f - b1) * g;
                v[i] = b2 * v[i] + (1.0f - b2) * g * g;
                w[i] -= step_size * m[i] / (std::sqrt(v[i]) + eps);
            }
        });
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
