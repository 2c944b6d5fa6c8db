#include <doctest/doctest.h>

#include <array>
#include <type_traits>
#include <vector>

#include <ctnn/layers/gru.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"
#include "support/recurrent_check.hpp"

namespace layers_gru_test {

// reset_after=True: 3 gates, each with an input and a recurrent bias.
using Last = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<16>>;
using Every = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::GRU<16, true>>;
static_assert(std::is_same_v<Last::output_shape, ctnn::Shape<16>>);
static_assert(std::is_same_v<Every::output_shape, ctnn::Shape<7, 16>>);
static_assert(Last::param_count == 3 * 16 * (12 + 16 + 2));

TEST_CASE_TEMPLATE("GRU: two steps computed by hand, Keras's reset_after form, gate order z, r, h", Backend,
                   CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<2, 2>;
    // One unit, two features. Kernel (2 x 3), recurrent kernel (1 x 3), input
    // bias (3), recurrent bias (3).
    const std::vector<float> params{0.2f, -0.3f, 0.4f,  0.1f, 0.5f, -0.6f,
                                    0.7f, -0.2f, 0.9f,
                                    0.1f, -0.1f, 0.2f,
                                    0.05f, 0.3f, -0.4f};
    const std::vector<float> x{1.0f, 2.0f, 0.5f, -1.0f};
    // Step 1 (h0 = 0): z = sigmoid(0.4 + 0.05) = 0.634136, r = sigmoid(0.6 + 0.3) = 0.710950,
    //   n = tanh(-0.8 + r * -0.4) = -0.708607, h1 = (1 - z) n = -0.259254.
    // Step 2: z = sigmoid(0.2 + 0.05 + 0.7 h1) = 0.492131,
    //   r = sigmoid(-0.75 + 0.3 - 0.2 h1) = 0.401757,
    //   n = tanh(0.8 + r (0.9 h1 - 0.4)) = 0.632490,  h2 = z h1 + (1 - z) n = 0.193635.
    const auto every = ctnn::testing::run_sequence<Backend, In>(ctnn::GRU<1, true>{}, params, x);
    CHECK(every[0] == doctest::Approx(-0.25925397).epsilon(1e-5));
    CHECK(every[1] == doctest::Approx(0.19363501).epsilon(1e-5));
    const auto last = ctnn::testing::run_sequence<Backend, In>(ctnn::GRU<1>{}, params, x);
    CHECK(last[0] == every[1]);
}

TEST_CASE_TEMPLATE("GRU: gradients through four steps, last state and whole sequence", Backend,
                   CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<4, 3>;
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::GRU<5>{});
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::GRU<5, true>{});
}

TEST_CASE_TEMPLATE("GRU: Keras's initialisation and shapes, both biases zero", Backend, CTNN_TEST_BACKENDS) {
    constexpr std::size_t features = 12, units = 32, width = 3 * units;
    const typename ctnn::Sequential<ctnn::Input<7, features>, ctnn::GRU<units>>::template on<Backend> net{
        ctnn::Seed{4}};
    const auto kernel = net.template parameter<1, "kernel">();
    const auto recurrent = net.template parameter<1, "recurrent_kernel">();
    const auto bias = net.template parameter<1, "bias">();
    CHECK((kernel.shape() == std::array<std::size_t, 2>{features, width}));
    CHECK((recurrent.shape() == std::array<std::size_t, 2>{units, width}));
    // Two rows: the input bias, then the recurrent one.
    CHECK((bias.shape() == std::array<std::size_t, 2>{2, width}));
    ctnn::testing::check_glorot_limit(kernel.data(), features, width);
    ctnn::testing::check_orthonormal_rows(recurrent.data(), units, width);
    for (float b : bias) CHECK(b == 0.0f);
}

} // namespace layers_gru_test
