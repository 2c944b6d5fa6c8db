#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

// The inner layer sees one step; its weights are shared by all steps.
using Net = ctnn::Sequential<ctnn::Input<5, 8>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Softmax>;
static_assert(std::is_same_v<Net::output_shape, ctnn::Shape<5, 3>>);
static_assert(Net::param_count == 8 * 3 + 3);
// A Softmax after it stays a bare last pass, so cross-entropy folds into it.
static_assert(std::is_same_v<Net::output_layer, ctnn::Softmax>);
// An element-wise activation fuses into the inner Dense.
using Fused = ctnn::Sequential<ctnn::Input<5, 8>, ctnn::TimeDistributed<ctnn::Dense<3>>, ctnn::Tanh>;
static_assert(Fused::pass_count == 1 && Fused::unfused::pass_count == 2);
// Steps of any rank: a Flatten per step.
static_assert(std::is_same_v<ctnn::Sequential<ctnn::Input<4, 2, 3>,
                                              ctnn::TimeDistributed<ctnn::Flatten>>::output_shape,
                             ctnn::Shape<4, 6>>);

TEST_CASE("TimeDistributed: Dense on every step equals Dense on each step alone") {
    using Steps = ctnn::TimeDistributed<ctnn::Dense<3>>::impl<ctnn::Shape<4, 5>, Cpu>;
    using One = ctnn::Dense<3>::impl<ctnn::Shape<5>, Cpu>;
    Steps steps(ctnn::TimeDistributed<ctnn::Dense<3>>{});
    One one(ctnn::Dense<3>{});
    ctnn::Rng rng(2);
    auto params = ctnn::testing::random_values(Steps::param_count, rng);
    auto x = ctnn::testing::random_values(2 * 4 * 5, rng);
    std::vector<float> y(2 * 4 * 3), alone(3);
    steps.reserve(2);
    steps.forward({}, params.data(), x.data(), y.data(), 2);
    for (std::size_t row = 0; row < 8; ++row) {
        one.forward({}, params.data(), x.data() + row * 5, alone.data(), 1);
        for (std::size_t j = 0; j < 3; ++j) CHECK(y[row * 3 + j] == doctest::Approx(alone[j]));
    }
}

TEST_CASE("TimeDistributed: gradients, plain and with a fused activation") {
    using namespace ctnn::testing;
    using Plain = ctnn::TimeDistributed<ctnn::Dense<3>>::impl<ctnn::Shape<4, 5>, Cpu>;
    using WithTanh = ctnn::TimeDistributed<ctnn::Dense<3>>::impl<ctnn::Shape<4, 5>, Cpu, ctnn::ops::Tanh>;
    check_gradients<Plain, 20, 12>(Plain(ctnn::TimeDistributed<ctnn::Dense<3>>{}));
    check_gradients<WithTanh, 20, 12>(WithTanh(ctnn::TimeDistributed<ctnn::Dense<3>>{}, ctnn::ops::Tanh{}));
}

TEST_CASE("TimeDistributed: softmax per step, folded into cross-entropy as in the unfused network") {
    Net net{ctnn::Seed{4}};
    Net::unfused plain{ctnn::Seed{4}};
    constexpr std::size_t batch = 2;
    ctnn::Rng rng(3);
    auto x = ctnn::testing::random_values(batch * 40, rng);
    std::vector<float> labels{0, 2, 1, 1, 0, 2, 2, 1, 0, 0};  // one class per step
    ctnn::CategoricalCrossEntropy loss;

    auto p = net.forward(x, batch);
    for (std::size_t row = 0; row < batch * 5; ++row)
        CHECK(p[row * 3] + p[row * 3 + 1] + p[row * 3 + 2] == doctest::Approx(1.0));
    ctnn::LossBatch b{p.data(), labels.data(), batch * 5, 3, 1};
    loss.folded_gradient(b, net.output_gradient());
    net.backward<1>({}, batch);

    auto q = plain.forward(x, batch);
    ctnn::LossBatch c{q.data(), labels.data(), batch * 5, 3, 1};
    loss.gradient(c, plain.output_gradient());
    plain.backward({}, batch);
    for (std::size_t i = 0; i < net.gradients().size(); ++i)
        CHECK(net.gradients()[i] == doctest::Approx(plain.gradients()[i]).epsilon(1e-4));
}
