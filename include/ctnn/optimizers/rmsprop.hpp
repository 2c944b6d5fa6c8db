// RMSprop with Keras's semantics (keras.optimizers.RMSprop, Keras >= 2.11):
//   ms = rho * ms + (1 - rho) * g^2
//   centered: mg = rho * mg + (1 - rho) * g;  denom = ms - mg^2 + eps   else denom = ms + eps
//   step = lr * g / sqrt(denom)
//   momentum > 0: mom = momentum * mom + step;  w -= mom      else w -= step
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/optimizers/clipping.hpp"
#include "ctnn/optimizers/optimizer.hpp"

namespace ctnn {

namespace detail {

// One functor per variant keeps each loop free of branches, so it vectorises.
template <bool Centered, bool Momentum>
struct RmspropUpdate {
    float* w;
    const float* g;
    float* mean_square;
    float* mean_gradient;
    float* momentum;
    float lr, rho, eps, mu;
    GradientClip clip;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float gi = clip(g[i]);
        float denominator = mean_square[i] = flush_subnormal(rho * mean_square[i] + (1.0f - rho) * gi * gi);
        if constexpr (Centered) {
            const float average = mean_gradient[i] = flush_subnormal(rho * mean_gradient[i] + (1.0f - rho) * gi);
            denominator -= average * average;
        }
        float increment = lr * gi / std::sqrt(denominator + eps);
        if constexpr (Momentum) increment = momentum[i] = flush_subnormal(mu * momentum[i] + increment);
        w[i] -= increment;
    }
};

} // namespace detail

class RMSprop {
public:
    static constexpr std::string_view type_name = "RMSprop";

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

    // The learning rate and the other hyper-parameters are read when a step
    // is captured: fit captures again each epoch, after a schedule's change.
    bool capturable() const { return !clipping.needs_norms(); }

    template <class Backend>
    void step(const Backend& backend, const ParameterSet& p) {
        const std::size_t n = p.values.size();
        clipping.prepare(backend, p, steps_);
        // Each state starts at zero the first time it is needed: `centered` and
        // `momentum` may be switched on between steps.
        float* ms = mean_square_.ensure(backend, n);
        float* mg = centered ? mean_gradient_.ensure(backend, n) : nullptr;
        float* mom = momentum > 0.0f ? momentum_.ensure(backend, n) : nullptr;
        auto run = [&]<bool Centered, bool Momentum>() {
            detail::update_by_runs(backend, p, steps_, [&](std::size_t offset, std::size_t k) {
                auto at = [offset](float* slot) { return slot ? slot + offset : nullptr; };
                return detail::RmspropUpdate<Centered, Momentum>{
                    p.values.data() + offset, p.gradients.data() + offset, at(ms), at(mg), at(mom),
                    learning_rate, rho, epsilon, momentum, steps_[k].clip};
            });
        };
        if (centered)
            momentum > 0.0f ? run.template operator()<true, true>() : run.template operator()<true, false>();
        else
            momentum > 0.0f ? run.template operator()<false, true>() : run.template operator()<false, false>();
    }

    template <class Self, class F>
    static void hyperparameters(Self& self, F&& f) {
        f("learning_rate", self.learning_rate);
        f("rho", self.rho);
        f("momentum", self.momentum);
        f("epsilon", self.epsilon);
        f("centered", self.centered);
    }
    // Each empty until needed.
    template <class Self, class F>
    static void slots(Self& self, F&& f) {
        f("mean_square", self.mean_square_);
        f("mean_gradient", self.mean_gradient_);
        f("momentum", self.momentum_);
    }

private:
    SlotArray mean_square_;
    SlotArray mean_gradient_;
    SlotArray momentum_;
    std::vector<VariableStep> steps_;
};

} // namespace ctnn
