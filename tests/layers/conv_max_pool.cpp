#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using ctnn::Shape;

namespace {

template <class Conv, class Pool, class ConvInput, class Op>
using Pooled = typename Pool::template fused_impl<
    decltype(Conv::template output_shape<1, ConvInput>()), Cpu,
    typename Conv::template impl<ConvInput, Cpu>, Op>;

// Conv2D + ReLU + MaxPool2D is one pass when fused, three when not; so is
// Conv2D + MaxPool2D without an activation.
using Net = ctnn::Sequential<ctnn::Input<2, 9, 9>, ctnn::Conv2D<4, 3>, ctnn::ReLU,
                             ctnn::MaxPool2D<3, 2>, ctnn::Conv2D<3, 2, 1, ctnn::same>,
                             ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
static_assert(Net::pass_count == 4);
static_assert(Net::unfused::pass_count == 7);
static_assert(std::is_same_v<Net::output_shape, Shape<3>>);

} // namespace

TEST_CASE("Conv2D + MaxPool2D: gradients through the group, with overlapping windows and padding") {
    using namespace ctnn::testing;
    {
        using Impl = Pooled<ctnn::Conv2D<3, 3>, ctnn::MaxPool2D<2>, Shape<2, 6, 6>, ctnn::ops::Tanh>;
        check_gradients<Impl, 72, 12>(Impl(ctnn::Conv2D<3, 3>{}, ctnn::MaxPool2D<2>{}, {}));
    }
    {
        // 3/2 windows share their edges: a maximum there takes two gradients.
        using Conv = ctnn::Conv2D<2, 3, 1, 1>;
        using Impl = Pooled<Conv, ctnn::MaxPool2D<3, 2>, Shape<1, 7, 7>, ctnn::ops::Identity>;
        check_gradients<Impl, 49, 18>(Impl(Conv{}, ctnn::MaxPool2D<3, 2>{}));
    }
}

TEST_CASE("Conv2D + ReLU + MaxPool2D: the fused network computes what the unfused one does") {
    Net fused{ctnn::Seed{9}};
    Net::unfused unfused{ctnn::Seed{9}};
    ctnn::Rng rng(10);
    for (std::size_t batch : {std::size_t{9}, std::size_t{1}}) {
        auto x = ctnn::testing::random_values(batch * Net::input_shape::size, rng);
        auto dy = ctnn::testing::random_values(batch * Net::output_shape::size, rng);
        const ctnn::Context context{ctnn::Mode::training, 1, 0, 0};
        auto a = fused.forward(x, batch, context);
        auto b = unfused.forward(x, batch, context);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
        std::copy(dy.begin(), dy.end(), fused.output_gradient());
        std::copy(dy.begin(), dy.end(), unfused.output_gradient());
        fused.backward(context, batch);
        unfused.backward(context, batch);
        for (std::size_t i = 0; i < Net::param_count; ++i)
            CHECK(fused.gradients()[i] == doctest::Approx(unfused.gradients()[i]).epsilon(1e-4));
    }
}
