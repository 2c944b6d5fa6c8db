// What an optimizer provides, and what the three share: per-parameter state
// on the network's backend, and an update run over the parameters' variables
// with each one's clip (optimizers/clipping.hpp) and weight decay.
//
// An optimizer provides
//
//   static constexpr std::string_view type_name;   // "Adam", as checkpoints record it
//   float learning_rate;
//   template <class Backend> void step(const Backend&, const ParameterSet&);
//   template <class Self, class F> static void hyperparameters(Self&, F&& f);
//                                  // f(name, field&) for each, by Keras's names
//   template <class Self, class F> static void slots(Self&, F&& f);
//                                  // f(name, SlotArray&) for each per-parameter state
//
// (hyperparameters and slots take the optimizer as `Self`, const or not, so
// one function serves saving and loading.)
//
// For fit to capture whole training steps (CUDA graphs), an optimizer says
//   bool capturable() const;   // step() waits for nothing, what changes
//                              // from step to step lives in device memory,
//                              // and its updates honour ParameterSet::halted
//                              // (update_by_runs and for_each_unless_halted do)
// and, if it counts its steps on the host,
//   void count_replays(std::int64_t n);   // its captured step() ran n more
//                              // times than step() was called (n < 0: a
//                              // capture called step() without running it)
// An optimizer without capturable() is run uncaptured.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/parameters.hpp"

namespace ctnn {

template <class O, class Backend>
concept Optimizer = requires(O& optimizer, const Backend& backend, const ParameterSet& parameters) {
    { O::type_name } -> std::convertible_to<std::string_view>;
    { optimizer.learning_rate } -> std::convertible_to<float>;
    optimizer.step(backend, parameters);
};

template <class O>
concept CapturableOptimizer = requires(const O& optimizer) {
    { optimizer.capturable() } -> std::convertible_to<bool>;
};

// Tells an optimizer that counts its steps about replays of a captured step.
template <class O>
void count_replays(O& optimizer, std::int64_t n) {
    if constexpr (requires { optimizer.count_replays(n); }) optimizer.count_replays(n);
}

// A float array in the memory of whichever backend an optimizer steps on:
// optimizers are plain values, and the network they train picks the memory.
// Copies are deep, so that a copied optimizer goes on on its own.
class SlotArray {
public:
    SlotArray() = default;
    SlotArray(const SlotArray& other) : held_(other.held_ ? other.held_->clone() : nullptr) {}
    SlotArray(SlotArray&&) noexcept = default;
    SlotArray& operator=(const SlotArray& other) {
        held_ = other.held_ ? other.held_->clone() : nullptr;
        return *this;
    }
    SlotArray& operator=(SlotArray&&) noexcept = default;

    // n zeros on `backend`, unless it already holds n values there.
    template <class Backend>
    float* ensure(const Backend& backend, std::size_t n) {
        if (!holds<Backend>() || size() != n) {
            auto held = std::make_unique<Held<Backend>>();
            held->values.resize(n);
            backend.fill(held->values.data(), n, 0.0f);
            held_ = std::move(held);
        }
        return data();
    }

    template <class Backend>
    bool holds() const {
        return held_ && held_->backend() == typeid(Backend);
    }
    bool empty() const { return size() == 0; }
    std::size_t size() const { return held_ ? held_->size() : 0; }
    float* data() { return held_ ? held_->data() : nullptr; }
    const float* data() const { return held_ ? held_->data() : nullptr; }
    void clear() { held_.reset(); }

private:
    struct Holder {
        virtual ~Holder() = default;
        virtual std::unique_ptr<Holder> clone() const = 0;
        virtual float* data() = 0;
        virtual std::size_t size() const = 0;
        virtual const std::type_info& backend() const = 0;
    };
    template <class Backend>
    struct Held final : Holder {
        typename Backend::template buffer<float> values;
        std::unique_ptr<Holder> clone() const override { return std::make_unique<Held>(*this); }
        float* data() override { return values.data(); }
        std::size_t size() const override { return values.size(); }
        const std::type_info& backend() const override { return typeid(Backend); }
    };
    std::unique_ptr<Holder> held_;
};

namespace detail {

// What an optimizer keeps of a value that would be subnormal: zero. Its state
// decays geometrically wherever a gradient stays zero (Adam's v by 0.999 a
// step), so without this a value spends thousands of steps below the smallest
// normal float, where x86 cores take a microcode assist on every operation,
// ~100 times slower: seen as Adam's update growing from 1% to 40% of a long
// training's time. Such values move no weight (an update divides by
// sqrt(v) + epsilon), and flushing them here is the same on every backend.
CTNN_HOST_DEVICE inline float flush_subnormal(float x) {
    return (x < 1.17549435e-38f && x > -1.17549435e-38f) ? 0.0f : x;
}

// An update that does nothing while the step is halted (ParameterSet::halted).
template <class F>
struct UnlessHalted {
    F f;
    const std::uint32_t* halted;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        if (halted == nullptr || *halted == 0) f(i);
    }
};

// backend.for_each(n, f) for an optimizer's work, skipped while the step is
// halted. A backend that replays captured steps reads the flag in each
// index, when the step runs; one whose work has finished when the call
// returns reads it here, once: an update under a condition did not
// vectorise (Adam's was scalar, 5% of the LSTM adder's step on a Zen 3).
template <class Backend, class F>
void for_each_unless_halted(const Backend& backend, const ParameterSet& parameters, std::size_t n, F f) {
    if constexpr (Backend::host_memory && !CapturesGraphs<Backend>) {
        if (parameters.halted == nullptr || *parameters.halted == 0) backend.for_each(n, f);
    } else {
        backend.for_each(n, UnlessHalted<F>{f, parameters.halted});
    }
}

// Runs make(offset, k) -> functor over the parameters, variable by variable:
// consecutive variables whose steps[k] are equal share one pass (all of them,
// unless per-variable clips or weight-decay exclusions tell them apart). With
// no variables named, the whole buffer is variable 0.

template <class Backend, class Step, class Make>
void update_by_runs(const Backend& backend, const ParameterSet& parameters,
                    const std::vector<Step>& steps, Make&& make) {
    const auto& variables = parameters.variables;
    if (variables.empty()) {
        if (!parameters.values.empty())
            for_each_unless_halted(backend, parameters, parameters.values.size(), make(std::size_t{0}, std::size_t{0}));
        return;
    }
    for (std::size_t first = 0; first < variables.size();) {
        std::size_t last = first + 1;
        while (last < variables.size() && steps[last] == steps[first]) ++last;
        const std::size_t offset = variables[first].offset;
        const std::size_t size = variables[last - 1].offset + variables[last - 1].size - offset;
        for_each_unless_halted(backend, parameters, size, make(offset, first));
        first = last;
    }
}

} // namespace detail

} // namespace ctnn
