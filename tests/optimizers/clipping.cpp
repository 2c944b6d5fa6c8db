#include <ctnn/optimizers/adam.hpp>
#include <ctnn/optimizers/clipping.hpp>
#include <ctnn/optimizers/rmsprop.hpp>
#include <ctnn/optimizers/sgd.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

// ||g|| = 13 (5, 12 and zeros).
const std::vector<float> gradient{5.0f, 0.0f, -12.0f, 0.0f};

std::vector<float> clipped(const ctnn::GradientClipping& clipping, const std::vector<float>& g) {
    const ctnn::GradientClip clip = clipping.prepare(g);
    std::vector<float> out;
    for (float v : g) out.push_back(clip(v));
    return out;
}

// One step of `optimizer` from zero weights.
template <class Optimizer>
std::vector<float> step(Optimizer optimizer, const std::vector<float>& g) {
    std::vector<float> w(g.size(), 0.0f);
    optimizer.step(w, g);
    return w;
}

} // namespace

TEST_CASE("clipping: nothing set leaves gradients as they are") {
    CHECK(clipped({}, gradient) == gradient);
}

TEST_CASE("clipping: a norm limit scales the whole gradient to that norm") {
    auto by_global = clipped({.global_clipnorm = 6.5f}, gradient);
    CHECK(by_global[0] == doctest::Approx(2.5));
    CHECK(by_global[2] == doctest::Approx(-6.0));
    CHECK(by_global[1] == 0.0f);
    // clipnorm sees the one flat buffer as one variable: the same clip.
    CHECK(clipped({.clipnorm = 6.5f}, gradient) == by_global);
    // Below the limit nothing changes.
    CHECK(clipped({.global_clipnorm = 13.5f}, gradient) == gradient);
}

TEST_CASE("clipping: a value limit clamps each gradient") {
    CHECK(clipped({.clipvalue = 6.0f}, gradient) == std::vector<float>{5.0f, 0.0f, -6.0f, 0.0f});
}

TEST_CASE("clipping: like Keras, at most one option") {
    CHECK_THROWS_AS(clipped({.clipnorm = 1.0f, .clipvalue = 1.0f}, gradient), std::invalid_argument);
    CHECK_THROWS_AS(clipped({.clipnorm = 1.0f, .global_clipnorm = 1.0f}, gradient),
                    std::invalid_argument);
    CHECK_THROWS_AS(clipped({.clipvalue = -1.0f}, gradient), std::invalid_argument);
}

TEST_CASE("clipping: every optimizer steps as if given the clipped gradient") {
    const ctnn::GradientClipping clipping{.global_clipnorm = 1.0f};
    const std::vector<float> pre_clipped = clipped(clipping, gradient);
    auto check = [&](auto optimizer) {
        auto plain = step(optimizer, pre_clipped);
        optimizer.clipping = clipping;
        auto clipped_step = step(optimizer, gradient);
        for (std::size_t i = 0; i < plain.size(); ++i)
            CHECK(clipped_step[i] == doctest::Approx(plain[i]).epsilon(1e-6));
    };
    check(ctnn::SGD{0.1f});
    check(ctnn::SGD{0.1f, 0.9f, true});
    check(ctnn::RMSprop{0.1f});
    check(ctnn::Adam{0.1f});
    check(ctnn::AdamW{0.1f});
    // SGD moves by exactly lr * the clipped gradient: -0.1 * (5/13, 0, -12/13, 0).
    ctnn::SGD sgd{0.1f};
    sgd.clipping.clipnorm = 1.0f;
    auto w = step(sgd, gradient);
    CHECK(w[0] == doctest::Approx(-0.5 / 13));
    CHECK(w[2] == doctest::Approx(1.2 / 13));
}
