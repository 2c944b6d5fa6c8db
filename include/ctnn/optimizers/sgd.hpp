// Stochastic gradient descent with optional (Nesterov) momentum, Keras's update:
//   v = momentum * v - lr * g;  w += v                 (classical)
//   v = momentum * v - lr * g;  w += momentum * v - lr * g   (Nesterov)
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/optimizers/clipping.hpp"
#include "ctnn/optimizers/optimizer.hpp"

namespace ctnn {

namespace detail {

struct SgdUpdate {
    float* w;
    const float* g;
    float* velocity;  // null without momentum
    float lr, momentum;
    bool nesterov;
    GradientClip clip;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float gi = clip(g[i]);
        if (!velocity) {
            w[i] -= lr * gi;
            return;
        }
        const float v = velocity[i] = flush_subnormal(momentum * velocity[i] - lr * gi);
        w[i] += nesterov ? momentum * v - lr * gi : v;
    }
};

} // namespace detail

class SGD {
public:
    static constexpr std::string_view type_name = "SGD";

    explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false)
        : learning_rate(learning_rate), momentum(momentum), nesterov(nesterov) {}

    float learning_rate;
    float momentum;
    bool nesterov;
    GradientClipping clipping;  // Keras's clipnorm, clipvalue, global_clipnorm

    // The learning rate and the other hyper-parameters are read when a step
    // is captured: fit captures again each epoch, after a schedule's change.
    bool capturable() const { return !clipping.needs_norms(); }

    template <class Backend>
    void step(const Backend& backend, const ParameterSet& p) {
        clipping.prepare(backend, p, steps_);
        float* velocity = momentum == 0.0f ? nullptr : velocity_.ensure(backend, p.values.size());
        detail::update_by_runs(backend, p, steps_, [&](std::size_t offset, std::size_t k) {
            return detail::SgdUpdate{p.values.data() + offset, p.gradients.data() + offset,
                                     velocity ? velocity + offset : nullptr, learning_rate, momentum,
                                     nesterov, steps_[k].clip};
        });
    }

    template <class Self, class F>
    static void hyperparameters(Self& self, F&& f) {
        f("learning_rate", self.learning_rate);
        f("momentum", self.momentum);
        f("nesterov", self.nesterov);
    }
    // Empty without momentum.
    template <class Self, class F>
    static void slots(Self& self, F&& f) {
        f("velocity", self.velocity_);
    }

private:
    SlotArray velocity_;
    std::vector<VariableStep> steps_;
};

} // namespace ctnn
