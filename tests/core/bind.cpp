// detail::bind_layers<InputShape, Layers...>: each layer bound to its place,
// BoundLayer<index, layer, input_shape>, with its output shape and the sizes
// of its arrays (a composite's sublayers included).
#include <boost/mp11/algorithm.hpp>
#include <type_traits>

#include <ctnn/ctnn.hpp>

namespace core_bind_test {

using namespace ctnn;
using boost::mp11::mp_at_c;
using boost::mp11::mp_size;

template <class InputShape, class... Layers>
using bound = detail::bind_layers<InputShape, Layers...>;

// Layer I (counted from 1, as Network::layer<I>() counts) of a bound list.
template <class List, std::size_t I>
using at = mp_at_c<List, I - 1>;

// Indices count from 1: the Input is layer 0 and is not part of the list.
using Mlp = bound<Shape<784>, Dense<250>, Tanh, Dropout, Dense<10>, Softmax>;
static_assert(mp_size<Mlp>::value == 5);
static_assert(at<Mlp, 1>::index == 1 && at<Mlp, 5>::index == 5);
static_assert(std::is_same_v<at<Mlp, 4>::layer, Dense<10>>);

// Each layer's input is the previous one's output.
static_assert(std::is_same_v<at<Mlp, 1>::input_shape, Shape<784>>);
static_assert(std::is_same_v<at<Mlp, 1>::output_shape, Shape<250>>);
static_assert(std::is_same_v<at<Mlp, 2>::input_shape, Shape<250>>);
static_assert(std::is_same_v<at<Mlp, 4>::input_shape, Shape<250>>);
static_assert(std::is_same_v<at<Mlp, 5>::output_shape, Shape<10>>);

// Shapes through images and sequences.
using Image = bound<Shape<2, 4, 4>, GaussianNoise, Flatten, Dense<3>, Sigmoid>;
static_assert(std::is_same_v<at<Image, 1>::output_shape, Shape<2, 4, 4>>);
static_assert(std::is_same_v<at<Image, 2>::output_shape, Shape<32>>);
static_assert(std::is_same_v<at<Image, 4>::output_shape, Shape<3>>);

using Cnn = bound<Shape<1, 28, 28>, Conv2D<8, 5>, MaxPool2D<2>, Conv2D<4, 3, 1, same>, Flatten>;
static_assert(std::is_same_v<at<Cnn, 1>::output_shape, Shape<8, 24, 24>>);
static_assert(std::is_same_v<at<Cnn, 2>::output_shape, Shape<8, 12, 12>>);
static_assert(std::is_same_v<at<Cnn, 3>::output_shape, Shape<4, 12, 12>>);
static_assert(std::is_same_v<at<Cnn, 4>::output_shape, Shape<576>>);

using Seq2Seq = bound<Shape<7, 12>, LSTM<32>, RepeatVector<3>, GRU<16, true>,
                      TimeDistributed<Dense<5>>, Softmax>;
static_assert(std::is_same_v<at<Seq2Seq, 1>::output_shape, Shape<32>>);
static_assert(std::is_same_v<at<Seq2Seq, 2>::output_shape, Shape<3, 32>>);
static_assert(std::is_same_v<at<Seq2Seq, 3>::output_shape, Shape<3, 16>>);
static_assert(std::is_same_v<at<Seq2Seq, 5>::output_shape, Shape<3, 5>>);

// Parameter counts: a Dense layer's kernel and bias; none for parameter-free layers.
static_assert(at<Mlp, 1>::param_count == 784 * 250 + 250);
static_assert(at<Mlp, 2>::param_count == 0 && at<Mlp, 3>::param_count == 0);
static_assert(at<Cnn, 1>::param_count == 8 * 1 * 5 * 5 + 8);
static_assert(at<Cnn, 3>::param_count == 4 * 8 * 3 * 3 + 4);
// Recurrent kernels in Keras's layout: (F, gates U), (U, gates U), bias
// (gates U; the GRU's two rows).
static_assert(at<Seq2Seq, 1>::param_count == 12 * 128 + 32 * 128 + 128);
static_assert(at<Seq2Seq, 3>::param_count == 32 * 48 + 16 * 48 + 2 * 48);
// TimeDistributed shares its inner layer's weights over the steps.
static_assert(at<Seq2Seq, 4>::param_count == 16 * 5 + 5);

// State: only BatchNorm's running mean and variance, per channel.
using Normalized =
    bound<Shape<3, 6, 6>, Conv2D<4, 3>, BatchNorm, ReLU, Flatten, Dense<5>, BatchNorm>;
static_assert(at<Normalized, 2>::param_count == 2 * 4 && at<Normalized, 2>::state_count == 2 * 4);
static_assert(at<Normalized, 6>::param_count == 2 * 5 && at<Normalized, 6>::state_count == 2 * 5);
static_assert(at<Normalized, 1>::state_count == 0 && at<Normalized, 5>::state_count == 0);

// A Residual counts its body's arrays (its sublayers, bound inside it from
// index 1 on the block's input) and then its own: a projection shortcut's
// kernel and bias when the body changes the shape.
using Blocks = bound<Shape<8, 6, 6>, Residual<Conv2D<8, 3, 1, same>, BatchNorm, ReLU>,
                     Residual<Conv2D<16, 3, 2, same>, BatchNorm>>;
using Identity = at<Blocks, 1>;
using Projecting = at<Blocks, 2>;
using identity_body = Identity::layer::sublayers<Shape<8, 6, 6>>;
static_assert(mp_size<identity_body>::value == 3);
static_assert(mp_at_c<identity_body, 0>::index == 1 && mp_at_c<identity_body, 2>::index == 3);
static_assert(std::is_same_v<mp_at_c<identity_body, 1>::input_shape, Shape<8, 6, 6>>);
static_assert(std::is_same_v<Identity::output_shape, Shape<8, 6, 6>>);
static_assert(Identity::param_count == (8 * 8 * 3 * 3 + 8) + 2 * 8);
static_assert(Identity::state_count == 2 * 8);
static_assert(std::is_same_v<Projecting::output_shape, Shape<16, 3, 3>>);
static_assert(Projecting::param_count == (16 * 8 * 3 * 3 + 16) + 2 * 16 + (16 * 8 + 16));
static_assert(Projecting::state_count == 2 * 16);

// A Network binds the same way: its `layers` is this list, and its counts
// are the sums.
using Net = Sequential<Input<784>, Dense<250>, Tanh, Dropout, Dense<10>, Softmax>;
static_assert(std::is_same_v<Net::layers, Mlp>);
static_assert(std::is_same_v<Net::input_shape, Shape<784>>);
static_assert(std::is_same_v<Net::output_shape, Shape<10>>);
static_assert(Net::layer_count == 5);
static_assert(Net::param_count == 198'760);  // seed 001: 784-250-10
using ResNet = Sequential<Input<8, 6, 6>, Residual<Conv2D<8, 3, 1, same>, BatchNorm, ReLU>,
                          Residual<Conv2D<16, 3, 2, same>, BatchNorm>>;
static_assert(std::is_same_v<ResNet::layers, Blocks>);
static_assert(ResNet::state_count == 2 * 8 + 2 * 16);

// Parameter counts of the seed reports' models.
using DeepMlp = Sequential<Input<784>, Dense<125>, ReLU, Dense<100>, ReLU, Dense<50>, ReLU,
                           Dense<10>, Softmax>;
static_assert(DeepMlp::param_count == 116'285);  // seed 003: "Total params: 116,285"
using HogMlp = Sequential<Input<392>, Dense<200>, Sigmoid, Dropout, Dense<10>, Softmax>;
static_assert(HogMlp::param_count == 392 * 200 + 200 + 200 * 10 + 10);  // seed 001, HOG

// No layer above fell back to the stand-in that a failed check leaves behind.
static_assert(at<Mlp, 1>::valid && at<Seq2Seq, 4>::valid && Projecting::valid);

} // namespace core_bind_test
