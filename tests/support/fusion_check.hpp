// Fused against unfused: a network and Net::unfused with the same random
// parameters must compute the same outputs, gradients and state, in training
// (several steps, so that running statistics move) and at inference, at the
// batch sizes that take different paths (several chunks per thread, an odd
// one, one sample).
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include <ctnn/core/random.hpp>

#include "support/layer_stack.hpp"

namespace ctnn::testing {

struct FusionCheck {
    std::size_t training_batch = 8;
    std::size_t training_steps = 3;
    std::initializer_list<std::size_t> inference_batches = {5, 1};
    double tolerance = 1e-5;           // outputs and state, relative
    double gradient_tolerance = 1e-4;  // parameter gradients, relative
    std::uint64_t seed = 6;
};

template <class Net, class... Args>
void check_fused_matches_unfused(const FusionCheck& options, const Args&... args) {
    static_assert(Net::fused, "ctnn: the fused network goes first");
    using Unfused = typename Net::unfused;
    static_assert(Unfused::pass_count > Net::pass_count, "the network fuses nothing");
    Net fused{args...};
    Unfused unfused{args...};
    // Random parameters, not just the initial ones (BatchNorm's gamma and beta too).
    Rng rng(options.seed);
    const std::vector<float> params = random_values(Net::param_count, rng);
    std::copy(params.begin(), params.end(), fused.parameters().begin());
    std::copy(params.begin(), params.end(), unfused.parameters().begin());

    auto same = [](auto a, auto b, double tolerance) {
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            INFO("value ", i);
            CHECK(a[i] == doctest::Approx(b[i]).epsilon(tolerance));
        }
    };

    const std::size_t batch = options.training_batch;
    for (std::uint64_t step = 0; step < options.training_steps; ++step) {
        CAPTURE(step);
        const auto x = random_values(batch * Net::input_shape::size, rng);
        const auto dy = random_values(batch * Net::output_shape::size, rng);
        const Context context{Mode::training, 1, step, 0};
        same(fused.forward(x, batch, context), unfused.forward(x, batch, context), options.tolerance);
        std::copy(dy.begin(), dy.end(), fused.output_gradient());
        std::copy(dy.begin(), dy.end(), unfused.output_gradient());
        fused.backward(context, batch);
        unfused.backward(context, batch);
        same(fused.gradients(), unfused.gradients(), options.gradient_tolerance);
        same(std::as_const(fused).state(), std::as_const(unfused).state(), options.tolerance);
    }
    for (std::size_t inference_batch : options.inference_batches) {
        CAPTURE(inference_batch);
        const auto x = random_values(inference_batch * Net::input_shape::size, rng);
        const std::vector<float> expected(unfused.forward(x, inference_batch).begin(),
                                          unfused.forward(x, inference_batch).end());
        same(fused.forward(x, inference_batch), expected, options.tolerance);
    }
}

} // namespace ctnn::testing
