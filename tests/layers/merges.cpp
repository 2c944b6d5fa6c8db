// Concatenate and Add: several tensors made one again.
#include <doctest/doctest.h>

#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_merges_test {

using ctnn::Shape;
using ctnn::Shapes;

template <class Layer, class In>
using output_of = decltype(Layer::template output_shape<1, In>());

// Vectors join their features, images their channels.
static_assert(std::is_same_v<output_of<ctnn::Concatenate, Shapes<Shape<3>, Shape<5>>>, Shape<8>>);
static_assert(std::is_same_v<output_of<ctnn::Concatenate, Shapes<Shape<2, 4, 4>, Shape<3, 4, 4>, Shape<1, 4, 4>>>,
                             Shape<6, 4, 4>>);
static_assert(std::is_same_v<output_of<ctnn::Add, Shapes<Shape<2, 3>, Shape<2, 3>>>, Shape<2, 3>>);

TEST_CASE_TEMPLATE("Concatenate: a sample's tensors one after another, without a copy", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, Shapes<Shape<2>, Shape<1>>, ctnn::Fusion::fused, ctnn::Concatenate> join(
        ctnn::Concatenate{});
    const std::vector<float> x{1, 2, 3, 4, 5, 6};
    const auto y = join.forward(x, 2);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == x[i]);
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
}

TEST_CASE_TEMPLATE("Concatenate: gradients after branches of their own", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, Shapes<Shape<1, 5, 5>, Shape<2, 5, 5>>>(
        {}, ctnn::Parallel<ctnn::Conv2D<2, 3>, ctnn::Conv2D<3, 3>>{}, ctnn::Concatenate{}, ctnn::Tanh{},
        ctnn::Conv2D<2, 3>{});
}

TEST_CASE_TEMPLATE("Add: the sum of its inputs", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, Shapes<Shape<2>, Shape<2>, Shape<2>>, ctnn::Fusion::fused, ctnn::Add> sum(
        ctnn::Add{});
    const std::vector<float> x{1, 2, 10, 20, 100, 200, -1, -2, 3, 4, 0.5f, 0};
    const auto y = sum.forward(x, 2);
    const std::vector<float> expected{111, 222, 2.5f, 2};
    REQUIRE(y.size() == expected.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == expected[i]);
}

TEST_CASE_TEMPLATE("Add: gradients, alone and after shared and own weights", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Shapes<Shape<3>, Shape<3>>>({}, ctnn::Add{});
    check_gradients<Backend, Shapes<Shape<4>, Shape<4>>>({}, ctnn::Shared<ctnn::Dense<3>, ctnn::Tanh>{}, ctnn::Add{},
                                                         ctnn::Dense<2>{});
    check_gradients<Backend, Shapes<Shape<4>, Shape<2>>>({}, ctnn::Parallel<ctnn::Dense<3>, ctnn::Dense<3>>{},
                                                         ctnn::Add{}, ctnn::Sigmoid{});
}

} // namespace layers_merges_test
