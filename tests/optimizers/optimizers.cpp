#include <ctnn/optimizers/adam.hpp>
#include <ctnn/optimizers/rmsprop.hpp>
#include <ctnn/optimizers/sgd.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "support/backends.hpp"

namespace optimizers_optimizers_test {

// Each optimizer takes three steps from the same weights with the same three
// gradients, and is compared after every step with a double-precision
// re-implementation of the update documented in its header (Keras's).

using Vec = std::vector<double>;

const Vec start{1.0, -2.0, 0.5};
const std::array<Vec, 3> gradients{Vec{0.5, -1.0, 2.0}, Vec{1.0, 0.0, -1.0}, Vec{-0.25, 0.5, 0.75}};

// Keras:  v = momentum v - lr g;  w += v  (Nesterov: w += momentum v - lr g)
struct SgdReference {
    double lr, momentum;
    bool nesterov;
    Vec v = Vec(3, 0.0);

    void step(Vec& w, const Vec& g) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            v[i] = momentum * v[i] - lr * g[i];
            w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
        }
    }
};

// Keras:  ms = rho ms + (1 - rho) g^2;  centered: mg = rho mg + (1 - rho) g
//         increment = lr g / sqrt(ms [- mg^2] + eps)
//         momentum > 0: mom = momentum mom + increment;  w -= mom   else w -= increment
struct RmspropReference {
    double lr, rho, momentum, eps;
    bool centered;
    Vec ms = Vec(3, 0.0), mg = Vec(3, 0.0), mom = Vec(3, 0.0);

    void step(Vec& w, const Vec& g) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            ms[i] = rho * ms[i] + (1.0 - rho) * g[i] * g[i];
            double denominator = ms[i] + eps;
            if (centered) {
                mg[i] = rho * mg[i] + (1.0 - rho) * g[i];
                denominator -= mg[i] * mg[i];
            }
            double increment = lr * g[i] / std::sqrt(denominator);
            if (momentum > 0.0) increment = mom[i] = momentum * mom[i] + increment;
            w[i] -= increment;
        }
    }
};

// Keras:  w -= lr wd w (AdamW only);  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//         w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
struct AdamReference {
    double lr, b1, b2, eps, weight_decay = 0.0;
    Vec m = Vec(3, 0.0), v = Vec(3, 0.0);
    int t = 0;

    void step(Vec& w, const Vec& g) {
        ++t;
        const double alpha = lr * std::sqrt(1.0 - std::pow(b2, t)) / (1.0 - std::pow(b1, t));
        for (std::size_t i = 0; i < w.size(); ++i) {
            w[i] -= lr * weight_decay * w[i];
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
        }
    }
};

// What fit() checks of an optimizer, on every backend.
template <class Backend>
constexpr bool all_optimizers = ctnn::Optimizer<ctnn::SGD, Backend> &&
                                ctnn::Optimizer<ctnn::RMSprop, Backend> &&
                                ctnn::Optimizer<ctnn::Adam, Backend> &&
                                ctnn::Optimizer<ctnn::AdamW, Backend>;
static_assert(all_optimizers<ctnn::backend::Cpu> && all_optimizers<ctnn::testing::Portable>);

std::vector<float> to_float(const Vec& v) { return {v.begin(), v.end()}; }

void check_weights(const std::vector<float>& actual, const Vec& expected) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

// Steps `optimizer` and `reference` side by side; `first_step` is the hand-worked
// result of step 1, checked on its own so a wrong reference cannot hide a bug.
// One step over the whole buffer as one variable (no variables named).
template <class Backend, class Optimizer>
void step(const Backend& backend, Optimizer& optimizer, std::vector<float>& w,
          const std::vector<float>& g) {
    optimizer.step(backend, ctnn::ParameterSet{w, g, {}});
}

template <class Backend, class Optimizer, class Reference>
void check_against_reference(const Backend& backend, Optimizer& optimizer, Reference reference,
                             const Vec& first_step) {
    std::vector<float> weights = to_float(start);
    Vec expected = start;
    for (std::size_t s = 0; s < gradients.size(); ++s) {
        CAPTURE(s + 1);
        const std::vector<float> g = to_float(gradients[s]);
        step(backend, optimizer, weights, g);
        reference.step(expected, gradients[s]);
        if (s == 0) check_weights(weights, first_step);
        check_weights(weights, expected);
    }
}

TEST_SUITE("optimizers") {

TEST_CASE_TEMPLATE("SGD without momentum: w -= lr g", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f;
    ctnn::SGD sgd(lr);
    // w1 = (1, -2, 0.5) - 0.1 (0.5, -1, 2) = (0.95, -1.9, 0.3)
    check_against_reference(backend, sgd, SgdReference{lr, 0.0, false}, {0.95, -1.9, 0.3});
}

TEST_CASE_TEMPLATE("SGD with momentum: velocity carries over", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, momentum = 0.9f;
    ctnn::SGD sgd(lr, momentum);
    // v1 = -0.1 (0.5, -1, 2) = (-0.05, 0.1, -0.2);  w1 = (0.95, -1.9, 0.3)
    check_against_reference(backend, sgd, SgdReference{lr, momentum, false}, {0.95, -1.9, 0.3});

    // Step 2 by hand, from scratch: v2 = 0.9 v1 - 0.1 (1, 0, -1) = (-0.145, 0.09, -0.08),
    // w2 = w1 + v2 = (0.805, -1.81, 0.22).
    ctnn::SGD again(lr, momentum);
    std::vector<float> w = to_float(start);
    for (std::size_t s = 0; s < 2; ++s) {
        const std::vector<float> g = to_float(gradients[s]);
        step(backend, again, w, g);
    }
    check_weights(w, {0.805, -1.81, 0.22});
}

TEST_CASE_TEMPLATE("SGD with Nesterov momentum: looks ahead by momentum v - lr g", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, momentum = 0.9f;
    ctnn::SGD sgd(lr, momentum, true);
    // v1 = (-0.05, 0.1, -0.2);  w1 = w0 + 0.9 v1 - 0.1 g1
    //    = (1 - 0.045 - 0.05, -2 + 0.09 + 0.1, 0.5 - 0.18 - 0.2) = (0.905, -1.81, 0.12)
    check_against_reference(backend, sgd, SgdReference{lr, momentum, true}, {0.905, -1.81, 0.12});
}

TEST_CASE_TEMPLATE("RMSprop: steps scaled by the running RMS of the gradient", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, rho = 0.9f, eps = 1e-7f;
    ctnn::RMSprop rmsprop(lr, rho, 0.0f, eps, false);
    // ms1 = 0.1 g1^2 = (0.025, 0.1, 0.4); increment = 0.1 g / sqrt(ms1 + 1e-7):
    // 0.05 / sqrt(0.0250001) = 0.316227134, -0.1 / sqrt(0.1000001) = -0.316227608,
    // 0.2 / sqrt(0.4000001) = 0.316227727 (each about 0.1 / sqrt(0.1) = 0.316227766).
    // w1 = (0.683772866, -1.683772392, 0.183772274)
    check_against_reference(backend, rmsprop, RmspropReference{lr, rho, 0.0, eps, false},
                            {0.683772866, -1.683772392, 0.183772274});
}

TEST_CASE_TEMPLATE("RMSprop with momentum: increments accumulate", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, rho = 0.9f, momentum = 0.9f, eps = 1e-7f;
    ctnn::RMSprop rmsprop(lr, rho, momentum, eps, false);
    // mom starts at 0, so step 1 equals plain RMSprop's: w1 = (0.683772866, -1.683772392,
    // 0.183772274). Steps 2-3 differ from plain RMSprop; the reference covers them.
    check_against_reference(backend, rmsprop, RmspropReference{lr, rho, momentum, eps, false},
                            {0.683772866, -1.683772392, 0.183772274});
}

TEST_CASE_TEMPLATE("RMSprop centered: divides by the gradient's variance, not its mean square",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, rho = 0.9f, eps = 1e-7f;
    ctnn::RMSprop rmsprop(lr, rho, 0.0f, eps, true);
    // ms1 = 0.1 g^2, mg1 = 0.1 g: denominator = 0.1 g^2 - 0.01 g^2 + eps = 0.09 g^2 + eps,
    // increment ~ 0.1 g / (0.3 |g|) = 1/3. With eps: 0.05 / sqrt(0.0225001) = 0.333332593,
    // -0.1 / sqrt(0.0900001) = -0.333333148, 0.2 / sqrt(0.3600001) = 0.333333287.
    // w1 = (0.666667407, -1.666666852, 0.166666713)
    check_against_reference(backend, rmsprop, RmspropReference{lr, rho, 0.0, eps, true},
                            {0.666667407, -1.666666852, 0.166666713});
}

TEST_CASE_TEMPLATE("RMSprop: epsilon sits inside the square root", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    // A large epsilon makes Keras's sqrt(ms + eps) and the sqrt(ms) + eps of
    // other libraries differ. g = 1: ms = 0.1, sqrt(0.1 + 0.06) = 0.4, so the
    // step is 0.1 / 0.4 = 0.25 (sqrt(0.1) + 0.06 would give 0.2658).
    ctnn::RMSprop rmsprop(0.1f, 0.9f, 0.0f, 0.06f);
    std::vector<float> w{1.0f};
    const std::vector<float> g{1.0f};
    step(backend, rmsprop, w, g);
    CHECK(w[0] == doctest::Approx(0.75).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("Adam: bias-corrected steps of about lr", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    ctnn::Adam adam(lr, b1, b2, eps);
    // t = 1: m = 0.1 g, v = 0.001 g^2, alpha = 0.1 sqrt(0.001) / 0.1 = 0.0316227766.
    // update = alpha 0.1 g / (0.0316227766 |g| + 1e-7)
    //        = 0.1 sign(g) / (1 + 1e-7 / (0.0316227766 |g|)):
    // 0.099999368 (g = 0.5), -0.099999684 (g = -1), 0.099999842 (g = 2).
    // w1 = (0.900000632, -1.900000316, 0.400000158)
    check_against_reference(backend, adam, AdamReference{lr, b1, b2, eps},
                            {0.900000632, -1.900000316, 0.400000158});
    CHECK(adam.iterations() == 3);
}

TEST_CASE_TEMPLATE("Adam: epsilon sits outside the square root", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    // g = 1, beta_2 = 0.75: m = 0.1, v = 0.25, alpha = 0.1 sqrt(0.25) / 0.1 = 0.5,
    // update = 0.5 * 0.1 / (sqrt(0.25) + 0.5) = 0.05 (sqrt(0.25 + 0.5) would give 0.0577).
    ctnn::Adam adam(0.1f, 0.9f, 0.75f, 0.5f);
    std::vector<float> w{1.0f};
    const std::vector<float> g{1.0f};
    step(backend, adam, w, g);
    CHECK(w[0] == doctest::Approx(0.95).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("AdamW: decoupled weight decay before the Adam step", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, wd = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    ctnn::AdamW adamw(lr, wd, b1, b2, eps);
    // Decay first: w (1 - 0.1 * 0.1) = (0.99, -1.98, 0.495); then the Adam update of the
    // Adam case: w1 = (0.99 - 0.099999368, -1.98 + 0.099999684, 0.495 - 0.099999842)
    //              = (0.890000632, -1.880000316, 0.395000158)
    check_against_reference(backend, adamw, AdamReference{lr, b1, b2, eps, wd},
                            {0.890000632, -1.880000316, 0.395000158});
}

TEST_CASE_TEMPLATE("AdamW shrinks weights by lr * wd * w per step where Adam leaves them", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const float lr = 0.1f, wd = 0.1f;
    ctnn::Adam adam(lr);
    ctnn::AdamW adamw(lr, wd);
    std::vector<float> plain = to_float(start), decayed = to_float(start);
    const std::vector<float> zero(3, 0.0f);
    for (int s = 0; s < 3; ++s) {
        step(backend, adam, plain, zero);
        step(backend, adamw, decayed, zero);
    }
    // Zero gradient: m = v = 0, so Adam's update is 0 / (0 + eps) = 0.
    check_weights(plain, start);
    // Each step multiplies by 1 - 0.1 * 0.1 = 0.99: 0.99^3 = 0.970299,
    // w3 = (0.970299, -1.940598, 0.4851495).
    check_weights(decayed, {0.970299, -1.940598, 0.4851495});
}

TEST_CASE("defaults are Keras's") {
    const ctnn::SGD sgd;
    CHECK(sgd.learning_rate == doctest::Approx(0.01));
    CHECK(sgd.momentum == 0.0f);
    CHECK_FALSE(sgd.nesterov);

    const ctnn::RMSprop rmsprop;
    CHECK(rmsprop.learning_rate == doctest::Approx(1e-3));
    CHECK(rmsprop.rho == doctest::Approx(0.9));
    CHECK(rmsprop.momentum == 0.0f);
    CHECK(rmsprop.epsilon == doctest::Approx(1e-7));
    CHECK_FALSE(rmsprop.centered);

    const ctnn::Adam adam;
    CHECK(adam.learning_rate == doctest::Approx(1e-3));
    CHECK(adam.beta_1 == doctest::Approx(0.9));
    CHECK(adam.beta_2 == doctest::Approx(0.999));
    CHECK(adam.epsilon == doctest::Approx(1e-7));

    const ctnn::AdamW adamw;
    CHECK(adamw.learning_rate == doctest::Approx(1e-3));
    CHECK(adamw.weight_decay == doctest::Approx(0.004));
    CHECK(adamw.exclude_from_weight_decay.empty());
}

} // TEST_SUITE

TEST_CASE("optimizer state never stays subnormal: where the gradient stops, it decays to zero") {
    // One weight, a gradient of 1e-10 and then zeros: Adam's m shrinks by 0.9 a
    // step, RMSprop's mean square by 0.9, SGD's velocity by 0.9, and each
    // passes the subnormal range (below 1.2e-38) within 800 steps. A
    // gradient of 1e-18 makes Adam's v = 1e-3 * 1e-36 subnormal at once.
    const ctnn::backend::Cpu backend;
    auto run = [&](auto optimizer, float first_gradient, const char* name) {
        std::vector<float> w{1.0f}, g{first_gradient};
        std::size_t subnormal_steps = 0, nonzero_at_end = 0;
        for (int i = 0; i < 800; ++i) {
            step(backend, optimizer, w, g);
            g[0] = 0.0f;
            decltype(optimizer)::slots(optimizer, [&](const char*, const ctnn::SlotArray& slot) {
                for (std::size_t k = 0; k < slot.size(); ++k)
                    subnormal_steps += std::fpclassify(slot.data()[k]) == FP_SUBNORMAL;
            });
        }
        decltype(optimizer)::slots(optimizer, [&](const char*, const ctnn::SlotArray& slot) {
            for (std::size_t k = 0; k < slot.size(); ++k) nonzero_at_end += slot.data()[k] != 0.0f;
        });
        CAPTURE(name);
        CHECK(subnormal_steps == 0);
        return nonzero_at_end;
    };
    CHECK(run(ctnn::Adam{}, 1e-10f, "Adam") == 1);  // v (1e-23 after step 1) is still normal
    CHECK(run(ctnn::Adam{}, 1e-18f, "Adam, v subnormal at once") == 0);
    CHECK(run(ctnn::RMSprop{1e-3f, 0.9f, 0.9f, 1e-7f, true}, 1e-10f, "RMSprop, centered, momentum") == 0);
    CHECK(run(ctnn::SGD{0.01f, 0.9f}, 1e-10f, "SGD with momentum") == 0);
}

} // namespace optimizers_optimizers_test
