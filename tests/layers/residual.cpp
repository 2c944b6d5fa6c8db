#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <ctnn/data/dataset.hpp>
#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/batch_norm.hpp>
#include <ctnn/layers/conv2d.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/pooling.hpp>
#include <ctnn/layers/residual.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/losses/categorical_cross_entropy.hpp>
#include <ctnn/optimizers/adam.hpp>
#include <ctnn/sequential.hpp>
#include <ctnn/training/evaluate.hpp>
#include <ctnn/training/fit.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_residual_test {

using ctnn::Shape;

// A layer's parameter count on an input shape, its sublayers' included.
template <class Layer, class In>
inline constexpr std::size_t params_of = ctnn::BoundLayer<1, Layer, In>::param_count;

template <class Layer, class In>
using output_of = decltype(Layer::template output_shape<1, In>());

// Identity shortcut: the body keeps the shape.
using Plain = ctnn::Residual<ctnn::Conv2D<4, 3, 1, ctnn::same>, ctnn::Tanh, ctnn::Conv2D<4, 3, 1, ctnn::same>>;
static_assert(std::is_same_v<output_of<Plain, Shape<4, 5, 5>>, Shape<4, 5, 5>>);
static_assert(params_of<Plain, Shape<4, 5, 5>> == 2 * (4 * 4 * 9 + 4));

// Projection shortcut: more channels and stride 2, so a 1x1 stride-2 convolution.
using Down = ctnn::Residual<ctnn::Conv2D<6, 3, 2, ctnn::same>, ctnn::Tanh, ctnn::Conv2D<6, 3, 1, ctnn::same>>;
static_assert(std::is_same_v<output_of<Down, Shape<4, 5, 5>>, Shape<6, 3, 3>>);
static_assert(params_of<Down, Shape<4, 5, 5>> == (6 * 4 * 9 + 6) + (6 * 6 * 9 + 6) + (6 * 4 + 6));

// Dense bodies work too, with an identity shortcut.
using DenseBlock = ctnn::Residual<ctnn::Dense<5>, ctnn::Tanh, ctnn::Dense<5>>;
static_assert(params_of<DenseBlock, Shape<5>> == 2 * (5 * 5 + 5));

// A ResNet-style network is a type.
using TinyResNet = ctnn::Sequential<
    ctnn::Input<3, 8, 8>, ctnn::Conv2D<8, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::Residual<ctnn::Conv2D<8, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
                   ctnn::Conv2D<8, 3, 1, ctnn::same>, ctnn::BatchNorm>,
    ctnn::ReLU,
    ctnn::Residual<ctnn::Conv2D<16, 3, 2, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
                   ctnn::Conv2D<16, 3, 1, ctnn::same>, ctnn::BatchNorm>,
    ctnn::ReLU, ctnn::GlobalAveragePool, ctnn::Dense<10>, ctnn::Softmax>;
static_assert(std::is_same_v<TinyResNet::output_shape, Shape<10>>);

TEST_CASE_TEMPLATE("Residual: the output is body(x) + x with an identity shortcut",
                   Backend, CTNN_TEST_BACKENDS) {
    using Block = ctnn::Residual<ctnn::Dense<2>>;
    ctnn::testing::LayerStack<Backend, Shape<2>, ctnn::Fusion::fused, Block> block(Block{});
    // Body W = [[1, 2], [3, 4]], b = [0, 1]; x = [1, 1]: body = [4, 7], plus x = [5, 8].
    const std::vector<float> params{1, 2, 3, 4, 0, 1}, x{1, 1};
    std::copy(params.begin(), params.end(), block.params().begin());
    const auto y = block.forward(x, 1);
    CHECK(y[0] == 5.0f);
    CHECK(y[1] == 8.0f);
}

TEST_CASE_TEMPLATE("Residual: the output is body(x) + a 1x1 strided convolution of x when the shape changes",
                   Backend, CTNN_TEST_BACKENDS) {
    // Shape<1, 2, 2> to Shape<2, 1, 1>: the shortcut is a 1x1 convolution of
    // stride 2, which sees the top-left pixel only.
    using Block = ctnn::Residual<ctnn::Conv2D<2, 2>>;
    using Net = typename ctnn::Sequential<ctnn::Input<1, 2, 2>, Block>::template on<Backend>;
    static_assert(std::is_same_v<typename Net::output_shape, Shape<2, 1, 1>>);
    Net net{};
    // The body's arrays first, then the shortcut's.
    const auto shortcut_kernel = net.template parameter<1, "shortcut_kernel">();
    CHECK((shortcut_kernel.shape() == std::array<std::size_t, 4>{2, 1, 1, 1}));
    // Body kernels pick x[0] and x[3], biases [0.5, -0.5]; shortcut kernel [2, -1], bias [0.25, 0].
    const std::vector<float> params{1, 0, 0, 0, 0, 0, 0, 1, 0.5f, -0.5f, 2, -1, 0.25f, 0};
    REQUIRE(params.size() == Net::param_count);
    std::copy(params.begin(), params.end(), net.parameters().begin());
    // x = [1, 2, 3, 4]: body [1.5, 3.5]; shortcut [2 * 1 + 0.25, -1 * 1] = [2.25, -1].
    const std::vector<float> x{1, 2, 3, 4};
    const auto y = net.forward(x, 1);
    CHECK(y[0] == doctest::Approx(3.75));
    CHECK(y[1] == doctest::Approx(2.5));
}

TEST_CASE_TEMPLATE("Residual: gradients through body and shortcut, identity and projection", Backend,
                   CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Shape<4, 5, 5>>({}, Plain{});
    check_gradients<Backend, Shape<4, 5, 5>>({}, Down{});
    check_gradients<Backend, Shape<5>>({}, DenseBlock{});
}

TEST_CASE_TEMPLATE("Residual: a ResNet-style network trains", Backend, CTNN_TEST_BACKENDS) {
    typename TinyResNet::template on<Backend> net{ctnn::Seed{3}};
    ctnn::Rng rng(5);
    ctnn::data::Dataset data{xt::xtensor<float, 2>({64, 192}), xt::xtensor<float, 2>({64, 1})};
    for (std::size_t i = 0; i < 64; ++i) {
        float label = float(i % 2);
        for (std::size_t j = 0; j < 192; ++j) data.inputs(i, j) = rng.uniform() + (j < 64 ? label : 0.0f);
        data.targets(i, 0) = label;
    }
    const float before = ctnn::evaluate(net, data).loss;
    ctnn::fit(net, ctnn::Adam{1e-2f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 5, .batch_size = 16, .seed = 1, .verbosity = ctnn::Verbosity::silent});
    CHECK(ctnn::evaluate(net, data).loss < before);
}

} // namespace layers_residual_test
