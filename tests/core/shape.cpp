#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/ctnn.hpp>

using namespace ctnn;

// Shape traits
static_assert(Shape<1, 28, 28>::rank == 3);
static_assert(Shape<1, 28, 28>::size == 784);
static_assert(Shape<32, 12, 12>::dim<0> == 32);
static_assert(is_shape<Shape<3>> && !is_shape<int>);

// Shape propagation through a network
using Mlp = Sequential<Input<784>, Dense<250>, Tanh, Dropout, Dense<10>, Softmax>;
static_assert(std::is_same_v<Mlp::input_shape, Shape<784>>);
static_assert(std::is_same_v<Mlp::output_shape, Shape<10>>);
static_assert(std::is_same_v<boost::mp11::mp_at_c<Mlp::layers, 0>::output_shape, Shape<250>>);
static_assert(boost::mp11::mp_at_c<Mlp::layers, 0>::index == 1, "Input is layer 0");
static_assert(Mlp::layer_count == 5);

using Image = Sequential<Input<2, 4, 4>, GaussianNoise, Flatten, Dense<3>, Sigmoid>;
static_assert(std::is_same_v<boost::mp11::mp_at_c<Image::layers, 0>::output_shape, Shape<2, 4, 4>>);
static_assert(std::is_same_v<boost::mp11::mp_at_c<Image::layers, 1>::output_shape, Shape<32>>);
static_assert(std::is_same_v<Image::output_shape, Shape<3>>);

// Parameter counts of the seed reports' models
static_assert(Mlp::param_count == 198'760);  // seed 001: 784-250-10
using DeepMlp = Sequential<Input<784>, Dense<125>, ReLU, Dense<100>, ReLU, Dense<50>, ReLU,
                           Dense<10>, Softmax>;
static_assert(DeepMlp::param_count == 116'285);  // seed 003: "Total params: 116,285"
using HogMlp = Sequential<Input<392>, Dense<200>, Sigmoid, Dropout, Dense<10>, Softmax>;
static_assert(HogMlp::param_count == 392 * 200 + 200 + 200 * 10 + 10);  // seed 001, HOG

TEST_CASE("Shape: text forms for messages and summaries") {
    CHECK(to_string(Shape<32, 12, 12>{}) == "Shape<32, 12, 12>");
    CHECK(to_string(Shape<10>{}) == "Shape<10>");
    CHECK(batch_shape_string(Shape<32, 12, 12>{}) == "(None, 32, 12, 12)");
}
