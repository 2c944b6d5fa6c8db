#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using ctnn::Shape;

// Identity shortcut: the body keeps the shape.
using Plain = ctnn::Residual<ctnn::Conv2D<4, 3, 1, ctnn::same>, ctnn::Tanh, ctnn::Conv2D<4, 3, 1, ctnn::same>>;
static_assert(std::is_same_v<decltype(Plain::output_shape<1, Shape<4, 5, 5>>()), Shape<4, 5, 5>>);
static_assert(Plain::param_count<Shape<4, 5, 5>> == 2 * (4 * 4 * 9 + 4));

// Projection shortcut: more channels and stride 2, so a 1x1 stride-2 convolution.
using Down = ctnn::Residual<ctnn::Conv2D<6, 3, 2, ctnn::same>, ctnn::Tanh, ctnn::Conv2D<6, 3, 1, ctnn::same>>;
static_assert(std::is_same_v<decltype(Down::output_shape<1, Shape<4, 5, 5>>()), Shape<6, 3, 3>>);
static_assert(Down::param_count<Shape<4, 5, 5>> == (6 * 4 * 9 + 6) + (6 * 6 * 9 + 6) + (6 * 4 + 6));

// Dense bodies work too, with an identity shortcut.
using DenseBlock = ctnn::Residual<ctnn::Dense<5>, ctnn::Tanh, ctnn::Dense<5>>;
static_assert(DenseBlock::param_count<Shape<5>> == 2 * (5 * 5 + 5));

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

TEST_CASE("Residual: the output is body(x) + x with an identity shortcut") {
    using Block = ctnn::Residual<ctnn::Dense<2>>;
    Block::impl<Shape<2>, Cpu> block(Block{});
    // Body W = [[1, 2], [3, 4]], b = [0, 1]; x = [1, 1]: body = [4, 7], plus x = [5, 8].
    std::vector<float> params{1, 2, 3, 4, 0, 1}, x{1, 1}, y(2);
    block.forward({}, params.data(), x.data(), y.data(), 1);
    CHECK(y[0] == 5.0f);
    CHECK(y[1] == 8.0f);
}

TEST_CASE("Residual: gradients through body and shortcut, identity and projection") {
    using namespace ctnn::testing;
    {
        using Impl = Plain::impl<Shape<4, 5, 5>, Cpu>;
        check_gradients<Impl, 100, 100>(Impl(Plain{}));
    }
    {
        using Impl = Down::impl<Shape<4, 5, 5>, Cpu>;
        check_gradients<Impl, 100, 54>(Impl(Down{}));
    }
    {
        using Impl = DenseBlock::impl<Shape<5>, Cpu>;
        check_gradients<Impl, 5, 5>(Impl(DenseBlock{}));
    }
}

TEST_CASE("Residual: a ResNet-style network trains") {
    TinyResNet net{ctnn::Seed{3}};
    ctnn::Rng rng(5);
    ctnn::data::Dataset data{xt::xtensor<float, 2>({64, 192}), xt::xtensor<float, 2>({64, 1})};
    for (std::size_t i = 0; i < 64; ++i) {
        float label = float(i % 2);
        for (std::size_t j = 0; j < 192; ++j) data.inputs(i, j) = rng.uniform() + (j < 64 ? label : 0.0f);
        data.targets(i, 0) = label;
    }
    float before = ctnn::evaluate(net, data).loss;
    ctnn::fit(net, ctnn::Adam{1e-2f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 5, .batch_size = 16, .seed = 1, .verbosity = ctnn::Verbosity::silent});
    CHECK(ctnn::evaluate(net, data).loss < before);
}
