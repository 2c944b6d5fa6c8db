// A device backend against the CPU backend: the same layers with the same
// random parameters, state, inputs and output gradients must give the same
// outputs, state, parameter gradients and input gradients, at one sample, an
// odd batch and a larger one, in training and at inference.
//
// "The same" is within `tolerance` of the CPU's value, relative to it, or to
// the array's root-mean-square where the value is smaller: a sum that cancels
// to near zero rounds differently when its terms are added in another order
// (im2col and one GEMM instead of the CPU backend's chunked convolution), so
// only its error relative to the array's scale is meaningful.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>
#include <ctnn/core/random.hpp>

#include "support/layer_stack.hpp"

namespace ctnn::testing {

struct EquivalenceCheck {
    std::vector<std::size_t> batches = {1, 3, 8};
    std::vector<Mode> modes = {Mode::training, Mode::inference};
    double tolerance = 1e-5;
    std::uint64_t seed = 3;
};

inline void check_same_values(std::span<const float> device, std::span<const float> cpu,
                              double tolerance, const char* what) {
    REQUIRE(device.size() == cpu.size());
    double squares = 0.0;
    for (float v : cpu) squares += double(v) * v;
    const double rms = cpu.empty() ? 0.0 : std::sqrt(squares / double(cpu.size()));
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        const double scale = std::max({double(std::fabs(cpu[i])), rms, 1e-30});
        INFO(std::string(what), " ", i, ": device ", device[i], ", CPU ", cpu[i]);
        CHECK(std::fabs(double(device[i]) - double(cpu[i])) <= tolerance * scale);
    }
}

// Stack A against stack B (the reference): two LayerStacks of the same layers.
template <class A, class B, class... Layers>
void compare_stacks(const EquivalenceCheck& options, const Layers&... layers) {
    static_assert(A::param_count == B::param_count && A::state_count == B::state_count);
    using input = typename A::input_shape;
    for (std::size_t batch : options.batches) {
        for (Mode mode : options.modes) {
            CAPTURE(batch);
            CAPTURE(mode == Mode::training);
            A a(layers...);
            B b(layers...);
            Rng rng(options.seed + batch);
            const std::vector<float> params = random_values(A::param_count, rng);
            std::copy(params.begin(), params.end(), a.params().begin());
            std::copy(params.begin(), params.end(), b.params().begin());
            // Positive state, so that it can stand for running variances too.
            for (std::size_t i = 0; i != A::state_count; ++i)  // not <: nvcc flags i < 0
                a.state()[i] = b.state()[i] = 0.5f + 0.5f * std::fabs(rng.uniform(-1.0f, 1.0f));
            const std::vector<float> x = random_values(batch * input::size, rng, 0.05f);
            const std::vector<float> dy = random_values(batch * A::output_shape::size, rng);
            const Context context{mode, 17, 2, 0};

            const auto copy = [](std::span<const float> v) { return std::vector<float>(v.begin(), v.end()); };
            const std::vector<float> y = copy(b.forward(x, batch, context));
            check_same_values(a.forward(x, batch, context), y, options.tolerance, "output");
            check_same_values(a.state(), b.state(), options.tolerance, "state");
            const std::vector<float> dx = copy(b.backward(dy, batch, context));
            check_same_values(a.backward(dy, batch, context), dx, options.tolerance, "input gradient");
            check_same_values(a.grads(), b.grads(), options.tolerance, "parameter gradient");
        }
    }
}

// The layers on Device against the same layers on the CPU backend.
template <class Device, class InputShape, class... Layers>
void check_matches_cpu(const EquivalenceCheck& options, const Layers&... layers) {
    compare_stacks<LayerStack<Device, InputShape, Fusion::fused, Layers...>,
                   LayerStack<backend::Cpu, InputShape, Fusion::fused, Layers...>>(options, layers...);
}

// Fused against unfused, both on Device.
template <class Device, class InputShape, class... Layers>
void check_fusion_on(const EquivalenceCheck& options, const Layers&... layers) {
    using Fused = LayerStack<Device, InputShape, Fusion::fused, Layers...>;
    using Unfused = LayerStack<Device, InputShape, Fusion::unfused, Layers...>;
    static_assert(Fused::pass_count < Unfused::pass_count, "the layers fuse nothing");
    compare_stacks<Fused, Unfused>(options, layers...);
}

} // namespace ctnn::testing
