#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/layers/time_distributed.hpp>
#include <ctnn/losses/categorical_cross_entropy.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_time_distributed_test {

// The inner layer sees one step; its weights are shared by all steps.
using Net = ctnn::Sequential<ctnn::Input<5, 8>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Softmax>;
static_assert(std::is_same_v<Net::output_shape, ctnn::Shape<5, 3>>);
static_assert(Net::param_count == 8 * 3 + 3);
// The Softmax runs in the inner Dense's epilogue and stays the last layer,
// so cross-entropy folds into it.
static_assert(Net::pass_count == 1 && Net::unfused::pass_count == 2);
static_assert(std::is_same_v<Net::output_layer, ctnn::Softmax>);
// So does an element-wise activation.
using Fused = ctnn::Sequential<ctnn::Input<5, 8>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Tanh>;
static_assert(Fused::pass_count == 1 && Fused::unfused::pass_count == 2);
// Steps of any rank: a Flatten per step.
static_assert(std::is_same_v<ctnn::Sequential<ctnn::Input<4, 2, 3>,
                                              ctnn::TimeDistributed<ctnn::Flatten>>::output_shape,
                             ctnn::Shape<4, 6>>);

TEST_CASE_TEMPLATE("TimeDistributed: Dense on every step equals Dense on each step alone", Backend,
                   CTNN_TEST_BACKENDS) {
    using ctnn::testing::LayerStack;
    LayerStack<Backend, ctnn::Shape<4, 5>, ctnn::Fusion::fused, ctnn::TimeDistributed<ctnn::Dense<3>>> steps(
        ctnn::TimeDistributed<ctnn::Dense<3>>{});
    LayerStack<Backend, ctnn::Shape<5>, ctnn::Fusion::fused, ctnn::Dense<3>> one(ctnn::Dense<3>{});
    ctnn::Rng rng(2);
    const auto params = ctnn::testing::random_values(steps.param_count, rng);
    const auto x = ctnn::testing::random_values(2 * 4 * 5, rng);
    REQUIRE(one.param_count == steps.param_count);
    std::copy(params.begin(), params.end(), steps.params().begin());
    std::copy(params.begin(), params.end(), one.params().begin());
    const auto y = steps.forward(x, 2);
    for (std::size_t row = 0; row < 8; ++row) {
        const auto alone = one.forward(std::span(x).subspan(row * 5, 5), 1);
        for (std::size_t j = 0; j < 3; ++j) CHECK(y[row * 3 + j] == doctest::Approx(alone[j]));
    }
}

TEST_CASE_TEMPLATE("TimeDistributed: gradients, plain and with a fused activation",
                   Backend, CTNN_TEST_BACKENDS) {
    using In = ctnn::Shape<4, 5>;
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::TimeDistributed<ctnn::Dense<3>>{});
    ctnn::testing::check_gradients<Backend, In>({}, ctnn::TimeDistributed<ctnn::Dense<3>>{}, ctnn::Tanh{});
}

TEST_CASE_TEMPLATE("TimeDistributed: softmax per step, folded into cross-entropy as in the unfused network",
                   Backend, CTNN_TEST_BACKENDS) {
    using Fused = typename Net::template on<Backend>;
    Fused net{ctnn::Seed{4}};
    typename Fused::unfused plain{ctnn::Seed{4}};
    constexpr std::size_t batch = 2;
    ctnn::Rng rng(3);
    const auto x = ctnn::testing::random_values(batch * 40, rng);
    const std::vector<float> labels{0, 2, 1, 1, 0, 2, 2, 1, 0, 0};  // one class per step
    const ctnn::CategoricalCrossEntropy loss;

    const auto p = net.forward(x, batch);
    for (std::size_t row = 0; row < batch * 5; ++row)
        CHECK(p[row * 3] + p[row * 3 + 1] + p[row * 3 + 2] == doctest::Approx(1.0));
    loss.folded_gradient(net.backend(), {p.data(), labels.data(), batch * 5, 3, 1}, net.output_gradient());
    net.backward({}, batch, ctnn::OutputGradient::of_folded_activation);

    const auto q = plain.forward(x, batch);
    loss.gradient(plain.backend(), {q.data(), labels.data(), batch * 5, 3, 1}, plain.output_gradient());
    plain.backward({}, batch);
    for (std::size_t i = 0; i < net.gradients().size(); ++i)
        CHECK(net.gradients()[i] == doctest::Approx(plain.gradients()[i]).epsilon(1e-4));
    CHECK(net.gradients()[0] != 0.0f);
}

} // namespace layers_time_distributed_test
