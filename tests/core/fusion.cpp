#include <doctest/doctest.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

// Dense absorbs the activation after it; Dropout and Softmax stay separate.
using Net = ctnn::Sequential<ctnn::Input<7>, ctnn::Dense<6>, ctnn::Tanh, ctnn::Dense<5>,
                             ctnn::LeakyReLU, ctnn::Dropout, ctnn::Dense<5>, ctnn::Sigmoid,
                             ctnn::Dense<4>, ctnn::ReLU, ctnn::Dense<3>, ctnn::Softmax>;
static_assert(Net::pass_count == 7);
static_assert(Net::unfused::pass_count == 11);
static_assert(std::is_same_v<Net::output_layer, ctnn::Softmax>);
static_assert(std::is_void_v<ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<2>, ctnn::Sigmoid>::output_layer>,
              "a fused Dense+Sigmoid output is not a bare Sigmoid");

TEST_CASE("fusion: fused and unfused networks compute the same outputs and gradients") {
    Net fused{ctnn::Seed{5}, ctnn::Dropout{0.3f}};
    Net::unfused plain{ctnn::Seed{5}, ctnn::Dropout{0.3f}};
    REQUIRE(fused.parameters().size() == plain.parameters().size());
    for (std::size_t i = 0; i < fused.parameters().size(); ++i)
        REQUIRE(fused.parameters()[i] == plain.parameters()[i]);

    constexpr std::size_t batch = 4;
    ctnn::Rng rng(8);
    auto x = ctnn::testing::random_values(batch * 7, rng);
    auto r = ctnn::testing::random_values(batch * 3, rng);
    ctnn::Context context{ctnn::Mode::training, 9, 2, 0};

    auto y_fused = fused.forward(x, batch, context);
    auto y_plain = plain.forward(x, batch, context);
    for (std::size_t i = 0; i < y_fused.size(); ++i) CHECK(y_fused[i] == doctest::Approx(y_plain[i]).epsilon(1e-6));

    std::copy(r.begin(), r.end(), fused.output_gradient());
    std::copy(r.begin(), r.end(), plain.output_gradient());
    fused.backward(context, batch);
    plain.backward(context, batch);
    for (std::size_t i = 0; i < fused.gradients().size(); ++i)
        CHECK(fused.gradients()[i] == doctest::Approx(plain.gradients()[i]).epsilon(1e-5));
}

TEST_CASE("fusion: softmax folded into cross-entropy gives the gradient of the unfolded chain") {
    using Small = ctnn::Sequential<ctnn::Input<5>, ctnn::Dense<4>, ctnn::Softmax>;
    Small net{ctnn::Seed{6}};
    constexpr std::size_t batch = 3;
    ctnn::Rng rng(2);
    auto x = ctnn::testing::random_values(batch * 5, rng);
    std::vector<float> labels{0, 3, 1};
    ctnn::CategoricalCrossEntropy loss;

    auto p = net.forward(x, batch);
    ctnn::LossBatch b{p.data(), labels.data(), batch, 4, 1};
    loss.folded_gradient(b, net.output_gradient());
    net.backward<1>({}, batch);
    std::vector<float> folded(net.gradients().begin(), net.gradients().end());

    p = net.forward(x, batch);
    loss.gradient(b, net.output_gradient());
    net.backward({}, batch);
    for (std::size_t i = 0; i < folded.size(); ++i)
        CHECK(folded[i] == doctest::Approx(net.gradients()[i]).epsilon(1e-5));
}

TEST_CASE("fusion: the whole network's parameter gradients match finite differences") {
    using Small = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<5>, ctnn::Tanh, ctnn::Dropout,
                                   ctnn::Dense<3>, ctnn::Softmax>;
    Small net{ctnn::Seed{7}, ctnn::Dropout{0.4f}};
    constexpr std::size_t batch = 3;
    ctnn::Rng rng(4);
    auto x = ctnn::testing::random_values(batch * 4, rng);
    std::vector<float> labels{2, 0, 1};
    ctnn::CategoricalCrossEntropy loss;
    ctnn::Context context{ctnn::Mode::training, 1, 1, 0};
    auto value = [&] {
        auto p = net.forward(x, batch, context);
        return double(loss.value({p.data(), labels.data(), batch, 3, 1}));
    };
    auto p = net.forward(x, batch, context);
    loss.folded_gradient({p.data(), labels.data(), batch, 3, 1}, net.output_gradient());
    net.backward<1>(context, batch);
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
