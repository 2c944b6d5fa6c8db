#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"
#include "support/recurrent_check.hpp"

using ctnn::backend::Cpu;

// reset_after=True: 3 gates, each with an input and a recurrent bias.
using Last = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<16>>;
using Every = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<16, true>>;
static_assert(std::is_same_v<Last::output_shape, ctnn::Shape<16>>);
static_assert(std::is_same_v<Every::output_shape, ctnn::Shape<7, 16>>);
static_assert(Last::param_count == 3 * 16 * (12 + 16 + 2));

TEST_CASE("GRU: two steps computed by hand, Keras's reset_after form, gate order z, r, h") {
    // One unit, two features. Kernel (2 x 3), recurrent kernel (1 x 3), input
    // bias (3), recurrent bias (3).
    std::vector<float> params{0.2f, -0.3f, 0.4f,  0.1f, 0.5f, -0.6f,
                              0.7f, -0.2f, 0.9f,
                              0.1f, -0.1f, 0.2f,
                              0.05f, 0.3f, -0.4f};
    std::vector<float> x{1.0f, 2.0f, 0.5f, -1.0f};
    // Step 1 (h0 = 0): z = sigmoid(0.4 + 0.05) = 0.634136, r = sigmoid(0.6 + 0.3) = 0.710950,
    //   n = tanh(-0.8 + r * -0.4) = -0.708607, h1 = (1 - z) n = -0.259254.
    // Step 2: z = sigmoid(0.2 + 0.05 + 0.7 h1) = 0.492131,
    //   r = sigmoid(-0.75 + 0.3 - 0.2 h1) = 0.401757,
    //   n = tanh(0.8 + r (0.9 h1 - 0.4)) = 0.632490,  h2 = z h1 + (1 - z) n = 0.193635.
    auto every = ctnn::testing::run_sequence(
        ctnn::GRU<1, true>::impl<ctnn::Shape<2, 2>, Cpu>(ctnn::GRU<1, true>{}), params, x, 2);
    CHECK(every[0] == doctest::Approx(-0.25925397).epsilon(1e-5));
    CHECK(every[1] == doctest::Approx(0.19363501).epsilon(1e-5));
    auto last = ctnn::testing::run_sequence(
        ctnn::GRU<1>::impl<ctnn::Shape<2, 2>, Cpu>(ctnn::GRU<1>{}), params, x, 1);
    CHECK(last[0] == every[1]);
}

TEST_CASE("GRU: gradients through four steps, last state and whole sequence") {
    using namespace ctnn::testing;
    using In = ctnn::Shape<4, 3>;
    using LastImpl = ctnn::GRU<5>::impl<In, Cpu>;
    using EveryImpl = ctnn::GRU<5, true>::impl<In, Cpu>;
    check_gradients<LastImpl, 12, 5>(LastImpl(ctnn::GRU<5>{}));
    check_gradients<EveryImpl, 12, 20>(EveryImpl(ctnn::GRU<5, true>{}));
}

TEST_CASE("GRU: Keras's initialisation, both biases zero") {
    constexpr std::size_t features = 12, units = 32, width = 3 * units;
    ctnn::GRU<units>::impl<ctnn::Shape<7, features>, Cpu> gru(ctnn::GRU<units>{});
    std::vector<float> params(decltype(gru)::param_count, 9.0f);
    ctnn::Rng rng(4);
    gru.initialize(params.data(), rng);
    ctnn::testing::check_glorot_limit(params.data(), features, width);
    ctnn::testing::check_orthonormal_rows(params.data() + features * width, units, width);
    for (std::size_t k = (features + units) * width; k < params.size(); ++k) CHECK(params[k] == 0.0f);
}
