#include <ctnn/optimizers/adam.hpp>
#include <ctnn/optimizers/clipping.hpp>
#include <ctnn/optimizers/rmsprop.hpp>
#include <ctnn/optimizers/sgd.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <stdexcept>
#include <vector>

#include "support/backends.hpp"

namespace optimizers_clipping_test {

// ||g|| = 13 (5, 12 and zeros).
const std::vector<float> gradient{5.0f, 0.0f, -12.0f, 0.0f};

// Two variables of two values: ||a|| = 5, ||b|| = 1, ||(a, b)|| = sqrt(26).
const std::vector<float> two_variables{3.0f, 4.0f, 0.6f, 0.8f};
const std::vector<ctnn::Variable> variables{{"layer_01_Dense/kernel", "kernel", 0, 2},
                                            {"layer_01_Dense/bias", "bias", 2, 2}};

// g after this step's clips: each variable's clip over its values, or the
// one clip over all of them when no variables are named.
template <class Backend>
std::vector<float> clipped(const Backend& backend, const ctnn::GradientClipping& clipping,
                           const std::vector<float>& g,
                           std::span<const ctnn::Variable> named = {}) {
    std::vector<float> weights(g.size(), 0.0f);
    std::vector<ctnn::VariableStep> steps;
    clipping.prepare(backend, ctnn::ParameterSet{weights, g, named}, steps);
    std::vector<float> out(g.size());
    if (named.empty()) {
        REQUIRE(steps.size() == 1);
        for (std::size_t i = 0; i < g.size(); ++i) out[i] = steps[0].clip(g[i]);
        return out;
    }
    REQUIRE(steps.size() == named.size());
    for (std::size_t v = 0; v < named.size(); ++v)
        for (std::size_t i = named[v].offset; i < named[v].offset + named[v].size; ++i)
            out[i] = steps[v].clip(g[i]);
    return out;
}

// One step of `optimizer` from zero weights.
template <class Backend, class Optimizer>
std::vector<float> step(const Backend& backend, Optimizer optimizer, const std::vector<float>& g,
                        std::span<const ctnn::Variable> named = {}) {
    std::vector<float> w(g.size(), 0.0f);
    optimizer.step(backend, ctnn::ParameterSet{w, g, named});
    return w;
}

void check_values(const std::vector<float>& actual, const std::vector<double>& expected) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("clipping: nothing set leaves gradients as they are", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    CHECK(clipped(backend, {}, gradient) == gradient);
    CHECK(clipped(backend, {}, two_variables, variables) == two_variables);
}

TEST_CASE_TEMPLATE("clipping: a norm limit scales the whole gradient to that norm", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    auto by_global = clipped(backend, {.global_clipnorm = 6.5f}, gradient);
    CHECK(by_global[0] == doctest::Approx(2.5));
    CHECK(by_global[2] == doctest::Approx(-6.0));
    CHECK(by_global[1] == 0.0f);
    // clipnorm sees the one flat buffer as one variable: the same clip.
    CHECK(clipped(backend, {.clipnorm = 6.5f}, gradient) == by_global);
    // Below the limit nothing changes.
    CHECK(clipped(backend, {.global_clipnorm = 13.5f}, gradient) == gradient);
}

TEST_CASE_TEMPLATE("clipping: clipnorm clips each variable by its own norm, global_clipnorm by "
                   "the norm of all",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    // Keras: a's norm 5 exceeds 2, so a scales by 2/5; b's norm 1 does not, so b stays.
    check_values(clipped(backend, {.clipnorm = 2.0f}, two_variables, variables),
                 {1.2, 1.6, 0.6, 0.8});
    // The global norm sqrt(26) exceeds 2: both scale by 2 / sqrt(26) = 0.392232270.
    const double s = 2.0 / std::sqrt(26.0);
    check_values(clipped(backend, {.global_clipnorm = 2.0f}, two_variables, variables),
                 {3 * s, 4 * s, 0.6 * s, 0.8 * s});
    // Without named variables the whole buffer is the one variable.
    check_values(clipped(backend, {.clipnorm = 2.0f}, two_variables),
                 {3 * s, 4 * s, 0.6 * s, 0.8 * s});
}

TEST_CASE_TEMPLATE("clipping: a value limit clamps each gradient", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    CHECK(clipped(backend, {.clipvalue = 6.0f}, gradient) ==
          std::vector<float>{5.0f, 0.0f, -6.0f, 0.0f});
    check_values(clipped(backend, {.clipvalue = 0.7f}, two_variables, variables),
                 {0.7, 0.7, 0.6, 0.7});
}

TEST_CASE_TEMPLATE("clipping: like Keras, at most one option", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    CHECK_THROWS_AS(clipped(backend, {.clipnorm = 1.0f, .clipvalue = 1.0f}, gradient),
                    std::invalid_argument);
    CHECK_THROWS_AS(clipped(backend, {.clipnorm = 1.0f, .global_clipnorm = 1.0f}, gradient),
                    std::invalid_argument);
    CHECK_THROWS_AS(clipped(backend, {.clipvalue = -1.0f}, gradient), std::invalid_argument);
}

TEST_CASE_TEMPLATE("clipping: every optimizer steps as if given the clipped gradient", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    auto check = [&](auto optimizer, const ctnn::GradientClipping& clipping,
                     const std::vector<float>& g, std::span<const ctnn::Variable> named) {
        auto plain = step(backend, optimizer, clipped(backend, clipping, g, named), named);
        optimizer.clipping = clipping;
        auto clipped_step = step(backend, optimizer, g, named);
        for (std::size_t i = 0; i < plain.size(); ++i)
            CHECK(clipped_step[i] == doctest::Approx(plain[i]).epsilon(1e-6));
    };
    auto check_all = [&](const ctnn::GradientClipping& clipping, const std::vector<float>& g,
                         std::span<const ctnn::Variable> named) {
        check(ctnn::SGD{0.1f}, clipping, g, named);
        check(ctnn::SGD{0.1f, 0.9f, true}, clipping, g, named);
        check(ctnn::RMSprop{0.1f}, clipping, g, named);
        check(ctnn::Adam{0.1f}, clipping, g, named);
        check(ctnn::AdamW{0.1f}, clipping, g, named);
    };
    check_all({.global_clipnorm = 1.0f}, gradient, {});
    // Each variable on its own: the two take different clips, so the update
    // runs in two passes.
    check_all({.clipnorm = 2.0f}, two_variables, variables);
    // SGD moves by exactly lr * the clipped gradient: -0.1 * (5/13, 0, -12/13, 0).
    ctnn::SGD sgd{0.1f};
    sgd.clipping.clipnorm = 1.0f;
    auto w = step(backend, sgd, gradient);
    CHECK(w[0] == doctest::Approx(-0.5 / 13));
    CHECK(w[2] == doctest::Approx(1.2 / 13));
    // Per variable: -0.1 * (1.2, 1.6, 0.6, 0.8) with clipnorm 2.
    sgd.clipping.clipnorm = 2.0f;
    check_values(step(backend, sgd, two_variables, variables), {-0.12, -0.16, -0.06, -0.08});
}

} // namespace optimizers_clipping_test
