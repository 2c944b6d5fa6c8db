// Adam and AdamW (decoupled weight decay), Keras's defaults and update:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
// AdamW first shrinks every weight: w -= lr * weight_decay * w, except in the
// variables whose names contain one of exclude_from_weight_decay (Keras's
// exclude_from_weight_decay(var_names=...), e.g. {"bias", "gamma", "beta"}).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/optimizers/clipping.hpp"
#include "ctnn/optimizers/optimizer.hpp"

namespace ctnn {

namespace detail {

// Adam's step counter t and this step's step size, in device memory, so that
// a captured step advances them when it runs: counter[0] = t, counter[1] =
// lr sqrt(1 - b2^t) / (1 - b1^t). t is a float, as PyTorch's capturable
// Adam keeps it: exact for 2^24 steps, and by then both corrections are 1.
struct AdamAdvance {
    float* counter;
    float learning_rate, b1, b2;
    CTNN_HOST_DEVICE void operator()(std::size_t) const {
        counter[0] += 1.0f;
        const double t = double(counter[0]);
        counter[1] = float(learning_rate * std::sqrt(1.0 - std::pow(double(b2), t)) /
                           (1.0 - std::pow(double(b1), t)));
    }
};

struct SetCounter {
    float* counter;
    float t;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { counter[0] = t; }
};

// The step size in device memory (AdamAdvance's), or, where the host can
// read that memory (OnDevice false), its value: then the loop keeps it in a
// register and vectorises, which it did not with a load under a condition
// (scalar, 5% of the LSTM adder's step on a Zen 3).
template <bool OnDevice>
struct AdamUpdate {
    float* w;
    const float* g;
    float* m;
    float* v;
    float b1, b2, eps;
    std::conditional_t<OnDevice, const float*, float> step_size;
    float shrink;
    GradientClip clip;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float gi = clip(g[i]);
        float size;
        if constexpr (OnDevice)
            size = *step_size;
        else
            size = step_size;
        w[i] -= shrink * w[i];
        m[i] = flush_subnormal(b1 * m[i] + (1.0f - b1) * gi);
        v[i] = flush_subnormal(b2 * v[i] + (1.0f - b2) * gi * gi);
        w[i] -= size * m[i] / (std::sqrt(v[i]) + eps);
    }
};

} // namespace detail

class Adam {
public:
    static constexpr std::string_view type_name = "Adam";

    explicit Adam(float learning_rate = 1e-3f, float beta_1 = 0.9f, float beta_2 = 0.999f,
                  float epsilon = 1e-7f)
        : learning_rate(learning_rate), beta_1(beta_1), beta_2(beta_2), epsilon(epsilon) {}

    float learning_rate;
    float beta_1;
    float beta_2;
    float epsilon;
    GradientClipping clipping;  // Keras's clipnorm, clipvalue, global_clipnorm

    template <class Backend>
    void step(const Backend& backend, const ParameterSet& p) {
        update(backend, p, 0.0f, {});
    }

    std::uint64_t iterations() const { return iterations_; }
    void set_iterations(std::uint64_t iterations) { iterations_ = iterations; }

    bool capturable() const { return !clipping.needs_norms(); }
    // The device's counter ran n steps that the host did not see (or, n < 0,
    // the host counted a captured step that did not run).
    void count_replays(std::int64_t n) {
        iterations_ = std::uint64_t(std::int64_t(iterations_) + n);
        counted_ = iterations_;
    }

    template <class Self, class F>
    static void hyperparameters(Self& self, F&& f) {
        f("learning_rate", self.learning_rate);
        f("beta_1", self.beta_1);
        f("beta_2", self.beta_2);
        f("epsilon", self.epsilon);
    }
    // Empty before the first step.
    template <class Self, class F>
    static void slots(Self& self, F&& f) {
        f("m", self.m_);
        f("v", self.v_);
    }

protected:
    template <class Backend>
    void update(const Backend& backend, const ParameterSet& p, float decay,
                const std::vector<std::string>& excluded) {
        const std::size_t n = p.values.size();
        if (m_.size() != n || !m_.template holds<Backend>()) iterations_ = 0;
        float* m = m_.ensure(backend, n);
        float* v = v_.ensure(backend, n);
        // The device counter follows the host's unless the host's was set
        // (set_iterations, a loaded checkpoint, a fresh start) since.
        const bool fresh = !counter_.template holds<Backend>();
        float* counter = counter_.ensure(backend, 2);
        if (fresh || counted_ != iterations_)
            backend.for_each(1, detail::SetCounter{counter, float(iterations_)});
        detail::for_each_unless_halted(backend, p, 1, detail::AdamAdvance{counter, learning_rate, beta_1, beta_2});
        counted_ = ++iterations_;
        using Update = detail::AdamUpdate<!Backend::host_memory>;
        decltype(Update::step_size) step_size;
        if constexpr (Backend::host_memory)
            step_size = counter[1];
        else
            step_size = counter + 1;
        clipping.prepare(backend, p, steps_);
        for (std::size_t k = 0; k < steps_.size(); ++k) {
            steps_[k].decays = decay != 0.0f;
            if (k < p.variables.size())
                for (const std::string& name : excluded)
                    if (p.variables[k].path.find(name) != std::string::npos) steps_[k].decays = false;
        }
        detail::update_by_runs(backend, p, steps_, [&](std::size_t offset, std::size_t k) {
            return Update{p.values.data() + offset, p.gradients.data() + offset, m + offset, v + offset, beta_1,
                          beta_2, epsilon, step_size, steps_[k].decays ? learning_rate * decay : 0.0f,
                          steps_[k].clip};
        });
    }

private:
    SlotArray m_;
    SlotArray v_;
    SlotArray counter_;  // t and the step size (AdamAdvance); not saved: iterations is
    std::uint64_t iterations_ = 0;
    std::uint64_t counted_ = 0;  // the t the device counter holds, as far as the host knows
    std::vector<VariableStep> steps_;
};

class AdamW : public Adam {
public:
    static constexpr std::string_view type_name = "AdamW";

    explicit AdamW(float learning_rate = 1e-3f, float weight_decay = 0.004f,
                   float beta_1 = 0.9f, float beta_2 = 0.999f, float epsilon = 1e-7f)
        : Adam(learning_rate, beta_1, beta_2, epsilon), weight_decay(weight_decay) {}

    float weight_decay;
    // Variables whose path contains one of these are not decayed.
    std::vector<std::string> exclude_from_weight_decay;

    template <class Backend>
    void step(const Backend& backend, const ParameterSet& p) {
        update(backend, p, weight_decay, exclude_from_weight_decay);
    }

    template <class Self, class F>
    static void hyperparameters(Self& self, F&& f) {
        Adam::hyperparameters(self, f);
        f("weight_decay", self.weight_decay);
    }
};

} // namespace ctnn
