#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"
#include "support/recurrent_check.hpp"

using ctnn::backend::Cpu;

using Last = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::SimpleRNN<16>>;
using Every = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::SimpleRNN<16, true>>;
static_assert(std::is_same_v<Last::output_shape, ctnn::Shape<16>>);
static_assert(std::is_same_v<Every::output_shape, ctnn::Shape<7, 16>>);
static_assert(Last::param_count == 16 * (12 + 16 + 1));

TEST_CASE("SimpleRNN: two steps computed by hand") {
    // One unit, two features: kernel [0.3, -0.4], recurrent kernel 0.8, bias 0.1.
    std::vector<float> params{0.3f, -0.4f, 0.8f, 0.1f};
    std::vector<float> x{1.0f, 2.0f, 0.5f, -1.0f};
    // h1 = tanh(0.3 - 0.8 + 0.1) = tanh(-0.4) = -0.379949
    // h2 = tanh(0.15 + 0.4 + 0.8 h1 + 0.1) = tanh(0.346041) = 0.332860
    auto every = ctnn::testing::run_sequence(
        ctnn::SimpleRNN<1, true>::impl<ctnn::Shape<2, 2>, Cpu>(ctnn::SimpleRNN<1, true>{}), params, x, 2);
    CHECK(every[0] == doctest::Approx(-0.37994896).epsilon(1e-5));
    CHECK(every[1] == doctest::Approx(0.33285968).epsilon(1e-5));
    auto last = ctnn::testing::run_sequence(
        ctnn::SimpleRNN<1>::impl<ctnn::Shape<2, 2>, Cpu>(ctnn::SimpleRNN<1>{}), params, x, 1);
    CHECK(last[0] == every[1]);
}

TEST_CASE("SimpleRNN: gradients through four steps, last state and whole sequence") {
    using namespace ctnn::testing;
    using In = ctnn::Shape<4, 3>;
    using LastImpl = ctnn::SimpleRNN<5>::impl<In, Cpu>;
    using EveryImpl = ctnn::SimpleRNN<5, true>::impl<In, Cpu>;
    check_gradients<LastImpl, 12, 5>(LastImpl(ctnn::SimpleRNN<5>{}));
    check_gradients<EveryImpl, 12, 20>(EveryImpl(ctnn::SimpleRNN<5, true>{}));
}

TEST_CASE("SimpleRNN: Keras's initialisation, a square orthogonal recurrent kernel") {
    constexpr std::size_t features = 12, units = 24;
    ctnn::SimpleRNN<units>::impl<ctnn::Shape<7, features>, Cpu> rnn(ctnn::SimpleRNN<units>{});
    std::vector<float> params(decltype(rnn)::param_count, 9.0f);
    ctnn::Rng rng(4);
    rnn.initialize(params.data(), rng);
    ctnn::testing::check_glorot_limit(params.data(), features, units);
    ctnn::testing::check_orthonormal_rows(params.data() + features * units, units, units);
    for (std::size_t k = (features + units) * units; k < params.size(); ++k) CHECK(params[k] == 0.0f);
}
