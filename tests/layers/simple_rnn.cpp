#include <doctest/doctest.h>

#include <array>
#include <type_traits>
#include <vector>

#include <ctnn/layers/simple_rnn.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"
#include "support/recurrent_check.hpp"

namespace layers_simple_rnn_test {

using Last = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::SimpleRNN<16>>;
using Every = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::SimpleRNN<16, true>>;
static_assert(std::is_same_v<Last::output_shape, ctnn::Shape<16>>);
static_assert(std::is_same_v<Every::output_shape, ctnn::Shape<7, 16>>);
static_assert(Last::param_count == 16 * (12 + 16 + 1));

TEST_CASE_TEMPLATE("SimpleRNN: two steps computed by hand", Backend, CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<2, 2>;
    // One unit, two features: kernel [0.3, -0.4], recurrent kernel 0.8, bias 0.1.
    const std::vector<float> params{0.3f, -0.4f, 0.8f, 0.1f};
    const std::vector<float> x{1.0f, 2.0f, 0.5f, -1.0f};
    // h1 = tanh(0.3 - 0.8 + 0.1) = tanh(-0.4) = -0.379949
    // h2 = tanh(0.15 + 0.4 + 0.8 h1 + 0.1) = tanh(0.346041) = 0.332860
    const auto every = ctnn::testing::run_sequence<Backend, In>(ctnn::SimpleRNN<1, true>{}, params, x);
    CHECK(every[0] == doctest::Approx(-0.37994896).epsilon(1e-5));
    CHECK(every[1] == doctest::Approx(0.33285968).epsilon(1e-5));
    const auto last = ctnn::testing::run_sequence<Backend, In>(ctnn::SimpleRNN<1>{}, params, x);
    CHECK(last[0] == every[1]);
}

TEST_CASE_TEMPLATE("SimpleRNN: gradients through four steps, last state and whole sequence", Backend,
                   CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<4, 3>;
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::SimpleRNN<5>{});
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::SimpleRNN<5, true>{});
}

TEST_CASE_TEMPLATE("SimpleRNN: Keras's initialisation, a square orthogonal recurrent kernel", Backend,
                   CTNN_TEST_BACKENDS) {
    constexpr std::size_t features = 12, units = 24;
    const typename ctnn::Sequential<ctnn::Input<7, features>, ctnn::SimpleRNN<units>>::template on<Backend> net{
        ctnn::Seed{4}};
    const auto kernel = net.template parameter<1, "kernel">();
    const auto recurrent = net.template parameter<1, "recurrent_kernel">();
    const auto bias = net.template parameter<1, "bias">();
    CHECK((kernel.shape() == std::array<std::size_t, 2>{features, units}));
    CHECK((recurrent.shape() == std::array<std::size_t, 2>{units, units}));
    CHECK((bias.shape() == std::array<std::size_t, 1>{units}));
    ctnn::testing::check_glorot_limit(kernel.data(), features, units);
    ctnn::testing::check_orthonormal_rows(recurrent.data(), units, units);
    for (float b : bias) CHECK(b == 0.0f);
}

} // namespace layers_simple_rnn_test
