// Optimizers over a network's variables (Network::variables(): one per
// declared parameter array), as fit() steps them: the per-variable options
// see each kernel and bias on its own.
#include <ctnn/core/network.hpp>
#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/optimizers/adam.hpp>
#include <ctnn/optimizers/sgd.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "support/backends.hpp"

namespace optimizers_variables_test {

// Variables: layer 1's kernel (3 x 2) and bias (2), layer 3's kernel (2 x 1) and bias (1).
template <class Backend>
using Net = ctnn::Network<Backend, ctnn::Fusion::fused, ctnn::Input<3>, ctnn::Dense<2>, ctnn::ReLU,
                          ctnn::Dense<1>>;

std::vector<float> copy_of(std::span<const float> values) { return {values.begin(), values.end()}; }

TEST_CASE_TEMPLATE("SGD clipnorm: each of a network's arrays is clipped by its own norm", Backend,
                   CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    REQUIRE(net.variables().size() == 4);
    // Gradients 1 in every kernel, 0.1 in every bias: the kernels' norms
    // (sqrt 6, sqrt 2) exceed the limit 1, the biases' (0.1 sqrt 2, 0.1) do not.
    for (const ctnn::Variable& v : net.variables())
        std::fill_n(net.gradients().begin() + std::ptrdiff_t(v.offset), v.size,
                    v.name == "kernel" ? 1.0f : 0.1f);
    const std::vector<float> before = copy_of(net.parameters());
    const float lr = 0.5f;
    ctnn::SGD sgd{lr};
    sgd.clipping.clipnorm = 1.0f;
    sgd.step(net.backend(), net.trainable());

    const auto after = net.parameters();
    for (const ctnn::Variable& v : net.variables()) {
        CAPTURE(v.path);
        const double g = v.name == "kernel" ? 1.0 : 0.1;
        const double norm = g * std::sqrt(double(v.size));
        const double scale = std::min(1.0, 1.0 / norm);
        for (std::size_t i = v.offset; i < v.offset + v.size; ++i)
            CHECK(after[i] - before[i] == doctest::Approx(-lr * scale * g).epsilon(1e-5));
    }
    // With global_clipnorm the biases would shrink too: the whole gradient's
    // norm is sqrt(6 + 2 + 0.03), above 1.
    Net<Backend> other = net;
    const std::vector<float> start = copy_of(other.parameters());
    ctnn::SGD global{lr};
    global.clipping.global_clipnorm = 1.0f;
    global.step(other.backend(), other.trainable());
    const double global_scale = 1.0 / std::sqrt(8.03);
    const ctnn::Variable& bias = net.variables()[1];
    REQUIRE(bias.name == "bias");
    CHECK(other.parameters()[bias.offset] - start[bias.offset] ==
          doctest::Approx(-lr * global_scale * 0.1).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("AdamW exclude_from_weight_decay: the named variables are not decayed",
                   Backend, CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{2}};
    // Zero gradients: Adam's own update is 0 / (0 + eps), so only the decay,
    // w *= 1 - lr * weight_decay = 0.99, moves a weight.
    auto run = [&](const std::vector<std::string>& excluded) {
        Net<Backend> copy = net;
        std::ranges::fill(copy.parameters(), 1.0f);
        std::ranges::fill(copy.gradients(), 0.0f);
        ctnn::AdamW adamw(0.1f, 0.1f);
        adamw.exclude_from_weight_decay = excluded;
        adamw.step(copy.backend(), copy.trainable());
        return copy_of(copy.parameters());
    };
    auto check = [&](const std::vector<float>& w, auto decayed) {
        for (const ctnn::Variable& v : net.variables()) {
            CAPTURE(v.path);
            const float expected = decayed(v) ? 0.99f : 1.0f;
            for (std::size_t i = v.offset; i < v.offset + v.size; ++i)
                CHECK(w[i] == doctest::Approx(expected).epsilon(1e-6));
        }
    };
    SUBCASE("nothing excluded: every array decays") {
        check(run({}), [](const ctnn::Variable&) { return true; });
    }
    SUBCASE("{\"bias\"}: biases keep their values, kernels decay") {
        check(run({"bias"}), [](const ctnn::Variable& v) { return v.name == "kernel"; });
    }
    SUBCASE("a substring of the path: every array of layer 3") {
        check(run({"layer_03"}), [](const ctnn::Variable& v) {
            return v.path.find("layer_03") == std::string::npos;
        });
    }
}

} // namespace optimizers_variables_test
