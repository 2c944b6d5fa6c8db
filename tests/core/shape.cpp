// Shape<Dims...>: one sample's static extents. How shapes flow through a
// layer list is binding's test (core/bind.cpp).
#include <doctest/doctest.h>

#include <ctnn/core/shape.hpp>

namespace core_shape_test {

using namespace ctnn;

static_assert(Shape<1, 28, 28>::rank == 3);
static_assert(Shape<1, 28, 28>::size == 784);
static_assert(Shape<32, 12, 12>::dim<0> == 32);
static_assert(Shape<32, 12, 12>::dims[2] == 12);
static_assert(is_shape<Shape<3>> && !is_shape<int>);

// Extents a failed shape check reads in place of the missing ones.
static_assert(detail::extent_or_one<Shape<4, 5>>(1) == 5);
static_assert(detail::extent_or_one<Shape<4, 5>>(2) == 1);
static_assert(detail::extent_or_one<Shape<4, 0>>(1) == 1);

TEST_CASE("Shape: text forms for messages and summaries") {
    CHECK(to_string(Shape<32, 12, 12>{}) == "Shape<32, 12, 12>");
    CHECK(to_string(Shape<10>{}) == "Shape<10>");
    CHECK(batch_shape_string(Shape<32, 12, 12>{}) == "(None, 32, 12, 12)");
}

} // namespace core_shape_test
