// Branch, Shared and Parallel: layer lists used as one layer, on one input,
// on each of several with one set of weights, and on each with its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_branches_test {

using ctnn::Shape;
using ctnn::Shapes;

template <class Layer, class In>
using output_of = decltype(Layer::template output_shape<1, In>());
template <class Layer, class In>
inline constexpr std::size_t params_of = ctnn::BoundLayer<1, Layer, In>::param_count;

using Pair = Shapes<Shape<1, 6, 6>, Shape<1, 6, 6>>;
using Reader = ctnn::Branch<ctnn::Conv2D<2, 3>, ctnn::Tanh, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
constexpr std::size_t reader_params = (2 * 9 + 2) + (8 * 3 + 3);

// The shapes and counts a declaration gives.
static_assert(std::is_same_v<output_of<Reader, Shape<1, 6, 6>>, Shape<3>>);
static_assert(params_of<Reader, Shape<1, 6, 6>> == reader_params);
// One set of weights, whatever the number of uses.
static_assert(std::is_same_v<output_of<ctnn::Shared<Reader>, Pair>, Shapes<Shape<3>, Shape<3>>>);
static_assert(params_of<ctnn::Shared<Reader>, Pair> == reader_params);
static_assert(params_of<ctnn::Shared<Reader>, Shapes<Shape<1, 6, 6>, Shape<1, 6, 6>, Shape<1, 6, 6>>> == reader_params);
// Its own weights per input, and inputs of different shapes.
using Towers = ctnn::Parallel<Reader, ctnn::Dense<4>>;
static_assert(std::is_same_v<output_of<Towers, Shapes<Shape<1, 6, 6>, Shape<5>>>, Shapes<Shape<3>, Shape<4>>>);
static_assert(params_of<Towers, Shapes<Shape<1, 6, 6>, Shape<5>>> == reader_params + 5 * 4 + 4);
// A siamese network is a type; its summary and files show the branch.
using Siamese = ctnn::Sequential<ctnn::Inputs<Shape<1, 6, 6>, Shape<1, 6, 6>>, ctnn::Shared<Reader>,
                                 ctnn::Concatenate, ctnn::Dense<2>, ctnn::Softmax>;
static_assert(std::is_same_v<Siamese::input_shape, Pair>);
static_assert(Siamese::param_count == reader_params + 6 * 2 + 2);

TEST_CASE_TEMPLATE("Branch: runs its layers as they would run in the network", Backend, CTNN_TEST_BACKENDS) {
    using Whole = ctnn::testing::LayerStack<Backend, Shape<1, 6, 6>, ctnn::Fusion::fused, Reader>;
    using Inline = ctnn::testing::LayerStack<Backend, Shape<1, 6, 6>, ctnn::Fusion::fused, ctnn::Conv2D<2, 3>,
                                             ctnn::Tanh, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>>;
    Whole branch(Reader{});
    Inline layers(ctnn::Conv2D<2, 3>{}, ctnn::Tanh{}, ctnn::MaxPool2D<2>{}, ctnn::Flatten{}, ctnn::Dense<3>{});
    layers.initialize(4);
    std::copy(layers.params().begin(), layers.params().end(), branch.params().begin());
    ctnn::Rng rng(1);
    const std::vector<float> x = ctnn::testing::random_values(2 * 36, rng);
    const auto a = branch.forward(x, 2);
    const std::vector<float> from_branch(a.begin(), a.end());
    const auto b = layers.forward(x, 2);
    for (std::size_t i = 0; i < from_branch.size(); ++i) CHECK(from_branch[i] == b[i]);
}

TEST_CASE_TEMPLATE("Branch: gradients", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, Shape<1, 6, 6>>({}, Reader{});
}

TEST_CASE_TEMPLATE("Shared: each input through the same weights", Backend, CTNN_TEST_BACKENDS) {
    // W = [[1, 2], [3, 4]] (inputs x units), b = [0, 1]. Sample 0: [1, 1] -> [4, 7], [1, 0] -> [1, 3];
    // sample 1: [0, 1] -> [3, 5], [2, 0] -> [2, 5].
    using Block = ctnn::Shared<ctnn::Dense<2>>;
    ctnn::testing::LayerStack<Backend, Shapes<Shape<2>, Shape<2>>, ctnn::Fusion::fused, Block> block(Block{});
    const std::vector<float> params{1, 2, 3, 4, 0, 1}, x{1, 1, 1, 0, 0, 1, 2, 0};
    std::copy(params.begin(), params.end(), block.params().begin());
    const auto y = block.forward(x, 2);
    const std::vector<float> expected{4, 7, 1, 3, 3, 5, 2, 5};
    REQUIRE(y.size() == expected.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == expected[i]);
}

TEST_CASE_TEMPLATE("Shared: gradients, the weights' the sum over the uses", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Pair>({}, ctnn::Shared<Reader>{});
    // Three uses, with a BatchNorm whose statistics span every use.
    check_gradients<Backend, Shapes<Shape<4>, Shape<4>, Shape<4>>>(
        {}, ctnn::Shared<ctnn::Dense<3>, ctnn::BatchNorm, ctnn::Tanh>{});

    // The weight gradient is the branch's gradient on the first inputs plus
    // that on the second, each with its part of the output gradient.
    ctnn::testing::LayerStack<Backend, Pair, ctnn::Fusion::fused, ctnn::Shared<Reader>> shared(ctnn::Shared<Reader>{});
    ctnn::testing::LayerStack<Backend, Shape<1, 6, 6>, ctnn::Fusion::fused, Reader> alone(Reader{});
    alone.initialize(9);
    std::copy(alone.params().begin(), alone.params().end(), shared.params().begin());
    ctnn::Rng rng(3);
    const std::size_t batch = 2;
    const std::vector<float> x = ctnn::testing::random_values(batch * Pair::size, rng);
    const std::vector<float> dy = ctnn::testing::random_values(batch * 6, rng);
    const ctnn::Context training{ctnn::Mode::training};
    shared.forward(x, batch, training);
    shared.backward(dy, batch, training);
    std::vector<double> summed(reader_params, 0.0);
    for (std::size_t use = 0; use < 2; ++use) {
        std::vector<float> xs, dys;
        for (std::size_t s = 0; s < batch; ++s) {
            xs.insert(xs.end(), x.begin() + std::ptrdiff_t(s * 72 + use * 36), x.begin() + std::ptrdiff_t(s * 72 + use * 36 + 36));
            dys.insert(dys.end(), dy.begin() + std::ptrdiff_t(s * 6 + use * 3), dy.begin() + std::ptrdiff_t(s * 6 + use * 3 + 3));
        }
        alone.forward(xs, batch, training);
        alone.backward(dys, batch, training);
        for (std::size_t i = 0; i < reader_params; ++i) summed[i] += alone.grads()[i];
    }
    for (std::size_t i = 0; i < reader_params; ++i) CHECK(shared.grads()[i] == doctest::Approx(summed[i]).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("Parallel: each input through its own layer", Backend, CTNN_TEST_BACKENDS) {
    // Dense<1> on Shape<2>: W = [1, 2], b = 0.5; Dense<2> on Shape<1>: W = [3, -1], b = [0, 1].
    using Block = ctnn::Parallel<ctnn::Dense<1>, ctnn::Dense<2>>;
    ctnn::testing::LayerStack<Backend, Shapes<Shape<2>, Shape<1>>, ctnn::Fusion::fused, Block> block(Block{});
    const std::vector<float> params{1, 2, 0.5f, 3, -1, 0, 1}, x{1, 1, 2, 0, 1, -1};
    REQUIRE(params.size() == block.param_count);
    std::copy(params.begin(), params.end(), block.params().begin());
    const auto y = block.forward(x, 2);
    // Sample 0: [1, 1] -> 3.5, 2 -> [6, -1]; sample 1: [0, 1] -> 2.5, -1 -> [-3, 2].
    const std::vector<float> expected{3.5f, 6, -1, 2.5f, -3, 2};
    REQUIRE(y.size() == expected.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == expected[i]);
}

TEST_CASE_TEMPLATE("Parallel: gradients", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, Shapes<Shape<1, 6, 6>, Shape<5>>>({}, Towers{});
    // A layer that passes its input on, and a random one, beside a Dense.
    ctnn::testing::check_gradients<Backend, Shapes<Shape<3>, Shape<4>, Shape<2>>>(
        {}, ctnn::Parallel<ctnn::Flatten, ctnn::Dense<2>, ctnn::Branch<ctnn::Dense<3>, ctnn::Dropout>>{});
}

} // namespace layers_branches_test
