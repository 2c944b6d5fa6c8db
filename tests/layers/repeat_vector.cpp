#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::RepeatVector<3>>;
static_assert(std::is_same_v<Net::output_shape, ctnn::Shape<3, 4>>);
static_assert(Net::param_count == 0);

TEST_CASE("RepeatVector: copies each sample N times, and sums the copies' gradients") {
    ctnn::RepeatVector<3>::impl<ctnn::Shape<2>, Cpu> repeat(ctnn::RepeatVector<3>{});
    std::vector<float> x{1, 2, 3, 4}, y(12), dx(4);
    repeat.forward({}, nullptr, x.data(), y.data(), 2);
    CHECK(y == std::vector<float>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});

    std::vector<float> dy{1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60};
    repeat.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 2);
    CHECK(dx == std::vector<float>{6, 60, 15, 150});
}

TEST_CASE("RepeatVector: gradient check") {
    using Impl = ctnn::RepeatVector<3>::impl<ctnn::Shape<4>, Cpu>;
    ctnn::testing::check_gradients<Impl, 4, 12>(Impl(ctnn::RepeatVector<3>{}));
}
