#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

TEST_CASE("Flatten: Shape<C, H, W> becomes Shape<C*H*W>, as a view of the same values") {
    using Net = ctnn::Sequential<ctnn::Input<2, 3, 4>, ctnn::Flatten, ctnn::Dense<5>>;
    static_assert(std::is_same_v<boost::mp11::mp_at_c<Net::layers, 0>::output_shape, ctnn::Shape<24>>);
    static_assert(Net::param_count == 24 * 5 + 5);

    ctnn::Flatten::impl<ctnn::Shape<2, 3, 4>, Cpu> flatten(ctnn::Flatten{});
    std::vector<float> x(24), y(24);
    CHECK(flatten.forward({}, nullptr, x.data(), y.data(), 1) == x.data());
}

TEST_CASE("Flatten: gradients") {
    using Impl = ctnn::Flatten::impl<ctnn::Shape<2, 3>, Cpu>;
    ctnn::testing::check_gradients<Impl, 6, 6>(Impl(ctnn::Flatten{}));
}
