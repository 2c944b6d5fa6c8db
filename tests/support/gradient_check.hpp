// Finite-difference checks of a layer impl's backward pass, for the loss
// L = sum(y * r) with a fixed random r, so dL/dy = r.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/core/layer.hpp>
#include <ctnn/core/random.hpp>

namespace ctnn::testing {

struct GradientCheck {
    std::size_t batch = 3;
    Context context{Mode::training, 11, 5, 1};
    float step = 1e-2f;          // central-difference step
    float tolerance = 2e-3f;     // allowed |analytic - numeric| / max(1, |numeric|)
    float input_margin = 0.05f;  // inputs are kept this far from 0 (ReLU's kink)
    std::uint64_t seed = 7;
};

// Random values in [-1, 1] with |v| >= margin.
inline std::vector<float> random_values(std::size_t n, Rng& rng, float margin = 0.0f) {
    std::vector<float> v(n);
    for (float& x : v) {
        x = rng.uniform(-1.0f, 1.0f);
        if (std::fabs(x) < margin) x = x < 0 ? -margin : margin;
    }
    return v;
}

// Checks d(sum(y*r))/d(params) and /d(x) of `impl` against central differences.
template <class Impl, std::size_t InputSize, std::size_t OutputSize>
void check_gradients(Impl impl, const GradientCheck& options = {}) {
    const std::size_t batch = options.batch;
    Rng rng(options.seed);
    std::vector<float> params = random_values(Impl::param_count, rng);
    std::vector<float> x = random_values(batch * InputSize, rng, options.input_margin);
    std::vector<float> r = random_values(batch * OutputSize, rng);
    std::vector<float> y(batch * OutputSize), dy(batch * OutputSize), dx(batch * InputSize);
    std::vector<float> grads(Impl::param_count + 1);
    impl.reserve(batch);

    auto loss = [&] {
        const float* out = impl.forward(options.context, params.data(), x.data(), y.data(), batch);
        double total = 0.0;
        for (std::size_t i = 0; i < r.size(); ++i) total += double(out[i]) * r[i];
        return total;
    };
    auto numeric = [&](float& value) {
        const float saved = value;
        value = saved + options.step;
        double up = loss();
        value = saved - options.step;
        double down = loss();
        value = saved;
        return (up - down) / (2.0 * double(options.step));
    };
    auto agree = [&](double analytic, double estimate) {
        return std::fabs(analytic - estimate) <= options.tolerance * std::max(1.0, std::fabs(estimate));
    };

    const float* out = impl.forward(options.context, params.data(), x.data(), y.data(), batch);
    std::copy(out, out + r.size(), y.begin());
    dy = r;
    const float* input_gradient = impl.backward(options.context, params.data(), grads.data(),
                                                x.data(), y.data(), dy.data(), dx.data(), batch);
    REQUIRE(input_gradient != nullptr);
    std::vector<float> analytic_dx(input_gradient, input_gradient + x.size());
    std::vector<float> analytic_dp(grads.begin(), grads.begin() + Impl::param_count);

    for (std::size_t i = 0; i < params.size(); ++i) {
        double estimate = numeric(params[i]);
        INFO("parameter ", i, ": analytic ", analytic_dp[i], ", numeric ", estimate);
        CHECK(agree(analytic_dp[i], estimate));
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
        double estimate = numeric(x[i]);
        INFO("input ", i, ": analytic ", analytic_dx[i], ", numeric ", estimate);
        CHECK(agree(analytic_dx[i], estimate));
    }
}

} // namespace ctnn::testing
