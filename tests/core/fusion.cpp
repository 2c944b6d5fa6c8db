// Fused groups compute what their layers compute one by one, and a loss
// folded into the output activation gives the gradient of the unfolded chain.
// Which layers fuse is grouping's test (core/grouping.cpp).
#include <doctest/doctest.h>

#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/fusion_check.hpp"
#include "support/layer_stack.hpp"

namespace core_fusion_test {

using Net = ctnn::Sequential<ctnn::Input<7>, ctnn::Dense<6>, ctnn::Tanh, ctnn::Dense<5>,
                             ctnn::LeakyReLU, ctnn::Dropout, ctnn::Dense<5>, ctnn::Sigmoid,
                             ctnn::Dense<4>, ctnn::ReLU, ctnn::Dense<3>, ctnn::Softmax>;

// The output layer is the last layer, fused or not: a loss folds into a
// Sigmoid that runs in a Dense layer's epilogue.
static_assert(std::is_same_v<Net::output_layer, ctnn::Softmax>);
using DenseSigmoid = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<2>, ctnn::Sigmoid>;
static_assert(DenseSigmoid::pass_count == 1);
static_assert(std::is_same_v<DenseSigmoid::output_layer, ctnn::Sigmoid>);

// Gradients of a loss through `net`, folded into its output activation or not.
template <class Network, class Loss>
std::vector<float> loss_gradients(Network& net, const Loss& loss, const std::vector<float>& x,
                                  const std::vector<float>& targets, std::size_t batch,
                                  const ctnn::Context& context, ctnn::OutputGradient given) {
    const auto p = net.forward(x, batch, context);
    constexpr std::size_t width = Network::output_shape::size;
    const ctnn::LossBatch b{p.data(), targets.data(), batch, width, targets.size() / batch};
    if (given == ctnn::OutputGradient::of_folded_activation)
        loss.folded_gradient(net.backend(), b, net.output_gradient());
    else
        loss.gradient(net.backend(), b, net.output_gradient());
    net.backward(context, batch, given);
    return {net.gradients().begin(), net.gradients().end()};
}

// The folded backward pass (from the activation's input) against the
// unfolded one (through the activation's derivative), in training mode.
template <class Network, class Loss>
void check_folding(const Loss& loss, const std::vector<float>& targets) {
    static_assert(ctnn::FoldsInto<Loss, typename Network::output_layer>);
    Network net{ctnn::Seed{6}};
    const std::size_t batch = 3;
    ctnn::Rng rng(2);
    const auto x = ctnn::testing::random_values(batch * Network::input_shape::size, rng);
    const ctnn::Context context{ctnn::Mode::training, 3, 1, 0};
    const auto folded = loss_gradients(net, loss, x, targets, batch, context,
                                       ctnn::OutputGradient::of_folded_activation);
    const auto unfolded =
        loss_gradients(net, loss, x, targets, batch, context, ctnn::OutputGradient::of_output);
    REQUIRE(folded.size() == Network::param_count);
    for (std::size_t i = 0; i < folded.size(); ++i) {
        CAPTURE(i);
        CHECK(folded[i] == doctest::Approx(unfolded[i]).epsilon(1e-5));
    }
}

TEST_CASE_TEMPLATE("fusion: fused and unfused networks compute the same outputs and gradients",
                   Backend, CTNN_TEST_BACKENDS) {
    using Fused = typename Net::template on<Backend>;
    // The same seed draws the same weights: fusion changes how layers run,
    // not what they hold.
    Fused fused{ctnn::Seed{5}};
    typename Fused::unfused plain{ctnn::Seed{5}};
    REQUIRE(fused.parameters().size() == plain.parameters().size());
    for (std::size_t i = 0; i < fused.parameters().size(); ++i)
        REQUIRE(fused.parameters()[i] == plain.parameters()[i]);
    ctnn::testing::check_fused_matches_unfused<Fused>(
        {.training_batch = 4, .tolerance = 1e-6, .gradient_tolerance = 1e-5, .seed = 8},
        ctnn::Dropout{0.3f});
}

TEST_CASE_TEMPLATE("fusion: a loss folded into the output activation gives the unfolded gradient",
                   Backend, CTNN_TEST_BACKENDS) {
    using ctnn::BatchNorm, ctnn::Dense, ctnn::Input, ctnn::Sigmoid, ctnn::Softmax;
    const ctnn::CategoricalCrossEntropy cce;
    const std::vector<float> labels{0, 3, 1};
    SUBCASE("softmax with cross-entropy, fused into the Dense layer's epilogue") {
        using Small = typename ctnn::Sequential<Input<5>, Dense<4>, Softmax>::template on<Backend>;
        static_assert(Small::pass_count == 1);
        check_folding<Small>(cce, labels);
        check_folding<Small>(cce, std::vector<float>{1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0});
    }
    SUBCASE("softmax on its own") {
        using Small = typename ctnn::Sequential<Input<5>, Dense<4>, Softmax>::unfused::template on<
            Backend>;
        check_folding<Small>(cce, labels);
    }
    SUBCASE("softmax after a BatchNorm, whose batch statistics split the group in training") {
        using Small =
            typename ctnn::Sequential<Input<5>, Dense<4>, BatchNorm, Softmax>::template on<Backend>;
        static_assert(Small::pass_count == 1);
        check_folding<Small>(cce, labels);
    }
    SUBCASE("sigmoid with binary cross-entropy") {
        using Small = typename ctnn::Sequential<Input<5>, Dense<2>, Sigmoid>::template on<Backend>;
        const std::vector<float> targets{1, 0, 0.25f, 1, 0, 0};
        check_folding<Small>(ctnn::BinaryCrossEntropy{}, targets);
        check_folding<typename Small::unfused>(ctnn::BinaryCrossEntropy{}, targets);
    }
}

TEST_CASE_TEMPLATE("fusion: the whole network's parameter gradients match finite differences",
                   Backend, CTNN_TEST_BACKENDS) {
    using Small = typename ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<5>, ctnn::Tanh,
                                            ctnn::Dropout, ctnn::Dense<3>,
                                            ctnn::Softmax>::template on<Backend>;
    Small net{ctnn::Seed{7}, ctnn::Dropout{0.4f}};
    constexpr std::size_t batch = 3;
    ctnn::Rng rng(4);
    auto x = ctnn::testing::random_values(batch * 4, rng);
    std::vector<float> labels{2, 0, 1};
    ctnn::CategoricalCrossEntropy loss;
    ctnn::Context context{ctnn::Mode::training, 1, 1, 0};
    auto value = [&] {
        auto p = net.forward(x, batch, context);
        return double(loss.value(net.backend(), {p.data(), labels.data(), batch, 3, 1}));
    };
    auto p = net.forward(x, batch, context);
    loss.folded_gradient(net.backend(), {p.data(), labels.data(), batch, 3, 1},
                         net.output_gradient());
    net.backward(context, batch, ctnn::OutputGradient::of_folded_activation);
    std::vector<float> analytic(net.gradients().begin(), net.gradients().end());
    for (std::size_t i = 0; i < analytic.size(); ++i) {
        float& w = net.parameters()[i];
        const float saved = w;
        w = saved + 1e-2f;
        double up = value();
        w = saved - 1e-2f;
        double down = value();
        w = saved;
        CHECK(analytic[i] == doctest::Approx((up - down) / 2e-2).epsilon(2e-3).scale(1.0));
    }
}

} // namespace core_fusion_test
