#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using ctnn::Shape;

namespace {

using Conv = ctnn::Conv2D<3, 3>;
using Folded = ctnn::BatchNorm::fused_impl<Shape<3, 3, 3>, Cpu, Conv::impl<Shape<2, 5, 5>, Cpu>,
                                            ctnn::ops::Tanh>;

// Conv2D + BatchNorm + ReLU is one pass when fused, three when not.
using Net = ctnn::Sequential<ctnn::Input<2, 6, 6>, ctnn::Conv2D<4, 3, 1, ctnn::same>, ctnn::BatchNorm,
                             ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
static_assert(Net::pass_count == 4);
static_assert(Net::unfused::pass_count == 6);
static_assert(Net::param_count == (4 * 2 * 9 + 4) + 2 * 4 + (36 * 3 + 3));

} // namespace

TEST_CASE("Conv2D + BatchNorm: gradients through the group in training and at inference") {
    using namespace ctnn::testing;
    check_gradients<Folded, 50, 27>(Folded(Conv{}, ctnn::BatchNorm{}, {}), {.batch = 3});
    check_gradients<Folded, 50, 27>(Folded(Conv{}, ctnn::BatchNorm{}, {}),
                                    {.batch = 2, .context = ctnn::Context{}});
}

TEST_CASE("Conv2D + BatchNorm + ReLU: the fused network computes what the unfused one does") {
    const ctnn::BatchNorm norm{.momentum = 0.5f};  // running statistics move fast
    Net fused{ctnn::Seed{5}, norm};
    Net::unfused unfused{ctnn::Seed{5}, norm};
    REQUIRE(std::vector<float>(fused.parameters().begin(), fused.parameters().end()) ==
            std::vector<float>(unfused.parameters().begin(), unfused.parameters().end()));
    // Random gamma and beta too, not just the initial ones and zeros.
    ctnn::Rng rng(6);
    auto params = ctnn::testing::random_values(Net::param_count, rng);
    std::copy(params.begin(), params.end(), fused.parameters().begin());
    std::copy(params.begin(), params.end(), unfused.parameters().begin());

    // Training: batch statistics, gradients, and the running statistics they leave.
    constexpr std::size_t batch = 8;
    for (std::uint64_t step = 0; step < 3; ++step) {
        auto x = ctnn::testing::random_values(batch * Net::input_shape::size, rng);
        auto dy = ctnn::testing::random_values(batch * Net::output_shape::size, rng);
        const ctnn::Context context{ctnn::Mode::training, 1, step, 0};
        auto a = fused.forward(x, batch, context);
        auto b = unfused.forward(x, batch, context);
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
        std::copy(dy.begin(), dy.end(), fused.output_gradient());
        std::copy(dy.begin(), dy.end(), unfused.output_gradient());
        fused.backward(context, batch);
        unfused.backward(context, batch);
        for (std::size_t i = 0; i < Net::param_count; ++i)
            CHECK(fused.gradients()[i] == doctest::Approx(unfused.gradients()[i]).epsilon(1e-4));
    }

    // Inference: the fused network folds BatchNorm into the kernel.
    auto x = ctnn::testing::random_values(5 * Net::input_shape::size, rng);
    auto a = fused.forward(x, 5);
    std::vector<float> expected(unfused.forward(x, 5).begin(), unfused.forward(x, 5).end());
    for (std::size_t i = 0; i < a.size(); ++i)
        CHECK(a[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    // Batch 1 takes the convolution's by-filter path.
    auto one = fused.forward(std::span<const float>(x).first(Net::input_shape::size), 1);
    for (std::size_t i = 0; i < one.size(); ++i)
        CHECK(one[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("BatchNorm: running statistics are reachable inside fused groups, in layer order") {
    // A folded Conv2D+BatchNorm+ReLU group, then a BatchNorm on its own.
    using Mixed = ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::Conv2D<2, 3>, ctnn::BatchNorm,
                                   ctnn::ReLU, ctnn::Flatten, ctnn::Dense<3>, ctnn::BatchNorm>;
    auto states = [](auto& net) {
        std::vector<float> all;
        net.for_each_state([&](std::span<float> s) { all.insert(all.end(), s.begin(), s.end()); });
        return all;
    };
    Mixed fused{ctnn::Seed{2}};
    Mixed::unfused unfused{ctnn::Seed{2}};
    CHECK((states(fused) == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 1, 1}));
    ctnn::Rng rng(3);
    auto x = ctnn::testing::random_values(4 * 16, rng);
    const ctnn::Context context{ctnn::Mode::training, 1, 0, 0};
    fused.forward(x, 4, context);
    unfused.forward(x, 4, context);
    auto a = states(fused), b = states(unfused);
    REQUIRE(a.size() == 10);
    CHECK(a[0] != 0.0f);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]));
}
