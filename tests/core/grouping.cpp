// detail::group_layers<Bound, fusion_rules, Fusion>: which consecutive layers
// run as one pass, by their roles (core/fusion.hpp) and the rules in
// layers/fusion_rules.hpp. Each case lists the group sizes it yields.
#include <cstddef>
#include <type_traits>
#include <utility>

#include <ctnn/ctnn.hpp>

namespace core_grouping_test {

using namespace ctnn;
using boost::mp11::mp_list;

template <class Groups>
struct sizes_of;
template <class... G>
struct sizes_of<mp_list<G...>> {
    using type = std::index_sequence<G::size...>;
};

// The sizes of the groups the layers form after an input of InputShape.
template <Fusion F, class InputShape, class... Layers>
using group_sizes = typename sizes_of<
    detail::group_layers<detail::bind_layers<InputShape, Layers...>, fusion_rules, F>>::type;
template <class InputShape, class... Layers>
using fused = group_sizes<Fusion::fused, InputShape, Layers...>;

template <std::size_t... Sizes>
using sizes = std::index_sequence<Sizes...>;

// The roles the rules read.
static_assert(std::is_same_v<fusion::role_of<Dense<3>>, fusion::rows>);
static_assert(std::is_same_v<fusion::role_of<Conv2D<3, 3>>, fusion::planes>);
static_assert(std::is_same_v<fusion::role_of<TimeDistributed<Dense<3>>>, fusion::rows>);
static_assert(std::is_same_v<fusion::role_of<BatchNorm>, fusion::normalization>);
static_assert(std::is_same_v<fusion::role_of<ReLU>, fusion::activation>);
static_assert(std::is_same_v<fusion::role_of<Tanh>, fusion::activation>);
static_assert(std::is_same_v<fusion::role_of<MaxPool2D<2>>, fusion::pooling>);
static_assert(std::is_same_v<fusion::role_of<Softmax>, fusion::distribution>);
static_assert(std::is_same_v<fusion::role_of<Dropout>, fusion::none>);
static_assert(std::is_same_v<fusion::role_of<Flatten>, fusion::none>);
// TimeDistributed keeps only a producer's role: a wrapped activation fuses nothing.
static_assert(std::is_same_v<fusion::role_of<TimeDistributed<ReLU>>, fusion::none>);

using Flat = Shape<6>;
using Image = Shape<2, 8, 8>;

// A producer takes the activation after it into its epilogue.
static_assert(std::is_same_v<fused<Flat, Dense<4>, Tanh>, sizes<2>>);
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, ReLU>, sizes<2>>);
// The longest chains: producer, normalization, activation, and a sink.
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, BatchNorm, ReLU, MaxPool2D<2>>, sizes<4>>);
static_assert(std::is_same_v<fused<Flat, Dense<4>, BatchNorm, ReLU>, sizes<3>>);
static_assert(std::is_same_v<fused<Flat, Dense<4>, Softmax>, sizes<2>>);
static_assert(std::is_same_v<fused<Flat, Dense<4>, BatchNorm, Softmax>, sizes<3>>);
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, MaxPool2D<2>>, sizes<2>>);
static_assert(std::is_same_v<fused<Shape<3, 6>, TimeDistributed<Dense<4>>, Softmax>, sizes<2>>);

// What does not fuse:
// a Softmax after an activation (its backward would need that activation's output);
static_assert(std::is_same_v<fused<Flat, Dense<4>, ReLU, Softmax>, sizes<2, 1>>);
// two producers;
static_assert(std::is_same_v<fused<Flat, Dense<4>, Dense<3>>, sizes<1, 1>>);
// a normalization that does not follow its producer directly;
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, ReLU, BatchNorm>, sizes<2, 1>>);
static_assert(std::is_same_v<fused<Flat, Dense<4>, BatchNorm, BatchNorm>, sizes<2, 1>>);
// a second activation, or one after the sink;
static_assert(std::is_same_v<fused<Flat, Dense<4>, Tanh, ReLU>, sizes<2, 1>>);
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, MaxPool2D<2>, ReLU>, sizes<2, 1>>);
// pooling of rows, or a Softmax over planes;
static_assert(std::is_same_v<fused<Image, Conv2D<3, 3>, Softmax>, sizes<1, 1>>);
// anything without a producer before it, or past a layer without a role.
static_assert(std::is_same_v<fused<Flat, ReLU, Dense<4>, ReLU>, sizes<1, 2>>);
static_assert(std::is_same_v<fused<Flat, BatchNorm, ReLU>, sizes<1, 1>>);
static_assert(std::is_same_v<fused<Flat, Dense<4>, Dropout, ReLU>, sizes<1, 1, 1>>);

// Unfused, every layer is its own group.
static_assert(std::is_same_v<group_sizes<Fusion::unfused, Image, Conv2D<3, 3>, BatchNorm, ReLU,
                                         MaxPool2D<2>>,
                             sizes<1, 1, 1, 1>>);

// A network runs one pass per group: each Dense with the layer after it,
// and Dropout alone.
using Net = Sequential<Input<7>, Dense<6>, Tanh, Dense<5>, LeakyReLU, Dropout, Dense<5>, Sigmoid,
                       Dense<4>, ReLU, Dense<3>, Softmax>;
static_assert(Net::pass_count == 6);
static_assert(Net::unfused::pass_count == 11);
static_assert(!Net::unfused::fused);
using Cnn = Sequential<Input<1, 12, 12>, Conv2D<4, 3>, BatchNorm, ReLU, MaxPool2D<2>, Flatten,
                       Dense<8>, BatchNorm, ReLU, Dense<3>, Softmax>;
static_assert(Cnn::pass_count == 4);  // the convolution group, Flatten, two Dense groups
static_assert(Cnn::unfused::pass_count == 10);

} // namespace core_grouping_test
