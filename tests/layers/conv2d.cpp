#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include <ctnn/layers/activations.hpp>
#include <ctnn/layers/conv2d.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/layers/gaussian_noise.hpp>
#include <ctnn/layers/pooling.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_conv2d_test {

using ctnn::Shape;

// Shapes: valid, same and fixed padding, strides, rectangular kernels.
template <class Layer, class In>
using out_shape = decltype(Layer::template output_shape<1, In>());
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<32, 5>, Shape<1, 28, 28>>, Shape<32, 24, 24>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<9, 3, 1, ctnn::same>, Shape<1, 28, 28>>, Shape<9, 28, 28>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<32, 5, 1, 2>, Shape<3, 32, 32>>, Shape<32, 32, 32>>);
static_assert(
    std::is_same_v<out_shape<ctnn::Conv2D<8, ctnn::Size2{3, 5}, 2>, Shape<3, 32, 32>>, Shape<8, 15, 14>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<8, 3, 2, ctnn::same>, Shape<3, 7, 7>>, Shape<8, 4, 4>>);

// Parameter counts of the seed reports' CNNs (Keras counts include biases).
using SeedCnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::GaussianNoise, ctnn::Conv2D<45, 5>,
                                 ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Conv2D<60, 5>, ctnn::ReLU,
                                 ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<10>, ctnn::Softmax>;
static_assert(SeedCnn::param_count == (45 * 25 + 45) + (60 * 45 * 25 + 60) + (960 * 10 + 10));
using CifarCnn = ctnn::Sequential<ctnn::Input<3, 32, 32>, ctnn::Conv2D<32, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<64, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<128, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<64>, ctnn::ReLU,
                                  ctnn::Dense<10>, ctnn::Softmax>;
// Seed 004 counts 390,186 without the 32 + 64 + 128 convolution biases.
static_assert(CifarCnn::param_count == 390'186 + 32 + 64 + 128);
static_assert(CifarCnn::pass_count == 6,
              "each Conv2D absorbs its ReLU and pooling, the first Dense its ReLU, the last its Softmax");

template <class Backend, class In, class... Layers>
using Stack = ctnn::testing::LayerStack<Backend, In, ctnn::Fusion::fused, Layers...>;

template <class Backend, class In, class Layer>
std::vector<float> run(const Layer& layer, const std::vector<float>& params, const std::vector<float>& x,
                       std::size_t batch = 1) {
    Stack<Backend, In, Layer> conv(layer);
    REQUIRE(params.size() == conv.params().size());
    std::copy(params.begin(), params.end(), conv.params().begin());
    const auto y = conv.forward(x, batch);
    return {y.begin(), y.end()};
}

// Direct convolution, the definition, for comparison.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t KH,
          std::size_t KW, std::size_t SH, std::size_t SW, std::size_t PH, std::size_t PW,
          std::size_t OH, std::size_t OW>
std::vector<float> direct(const std::vector<float>& params, const std::vector<float>& x,
                          std::size_t batch) {
    std::vector<float> y(batch * F * OH * OW);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t oh = 0; oh < OH; ++oh)
                for (std::size_t ow = 0; ow < OW; ++ow) {
                    double sum = params[F * C * KH * KW + f];
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t kh = 0; kh < KH; ++kh)
                            for (std::size_t kw = 0; kw < KW; ++kw) {
                                long ih = long(oh * SH + kh) - long(PH), iw = long(ow * SW + kw) - long(PW);
                                if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W)) continue;
                                sum += double(params[((f * C + c) * KH + kh) * KW + kw]) *
                                       x[((n * C + c) * H + std::size_t(ih)) * W + std::size_t(iw)];
                            }
                    y[((n * F + f) * OH + oh) * OW + ow] = float(sum);
                }
    return y;
}

void check_close(const std::vector<float>& got, const std::vector<float>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("Conv2D: hand-computed outputs for valid, same and strided padding", Backend,
                   CTNN_TEST_BACKENDS) {
    const std::vector<float> image{1, 2, 3, 4, 5, 6, 7, 8, 9};
    // Kernel [[1, 2], [3, 4]], bias 0.5: top-left 1*1 + 2*2 + 3*4 + 4*5 + 0.5 = 37.5.
    auto valid = run<Backend, Shape<1, 3, 3>>(ctnn::Conv2D<1, 2>{}, {1, 2, 3, 4, 0.5f}, image);
    CHECK((valid == std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f}));
    // A 3x3 kernel of ones with "same" padding sums each zero-padded neighbourhood.
    std::vector<float> ones(9, 1.0f);
    ones.push_back(0.0f);
    auto same = run<Backend, Shape<1, 3, 3>>(ctnn::Conv2D<1, 3, 1, ctnn::same>{}, ones, image);
    CHECK((same == std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
    // One zero row/column each side, stride 2: windows centred on the corners.
    auto strided = run<Backend, Shape<1, 3, 3>>(ctnn::Conv2D<1, 3, 2, 1>{}, ones, image);
    CHECK((strided == std::vector<float>{12, 16, 24, 28}));
}

TEST_CASE_TEMPLATE("Conv2D: batches, channels, strides and rectangular kernels match direct convolution",
                   Backend, CTNN_TEST_BACKENDS) {
    ctnn::Rng rng(21);
    constexpr std::size_t batch = 3;
    {
        using Layer = ctnn::Conv2D<4, ctnn::Size2{3, 2}, ctnn::Size2{2, 1}, 1>;
        auto params = ctnn::testing::random_values(4 * 2 * 3 * 2 + 4, rng);
        auto x = ctnn::testing::random_values(batch * 2 * 7 * 6, rng);
        // rows: (7 + 2 - 3) / 2 + 1 = 4; cols: (6 + 2 - 2) / 1 + 1 = 7
        check_close(run<Backend, Shape<2, 7, 6>>(Layer{}, params, x, batch),
                    direct<2, 7, 6, 4, 3, 2, 2, 1, 1, 1, 4, 7>(params, x, batch));
    }
    {
        using Layer = ctnn::Conv2D<3, 3, 2, ctnn::same>;
        auto params = ctnn::testing::random_values(3 * 2 * 9 + 3, rng);
        auto x = ctnn::testing::random_values(batch * 2 * 6 * 6, rng);
        // same, stride 2: 3x3 output; needs (3-1)*2+3 = 7 > 6, so the one padding row goes after.
        check_close(run<Backend, Shape<2, 6, 6>>(Layer{}, params, x, batch),
                    direct<2, 6, 6, 3, 3, 3, 2, 2, 0, 0, 3, 3>(params, x, batch));
    }
}

TEST_CASE_TEMPLATE("Conv2D: gradients with padding, stride, rectangular kernels and fused activations", Backend,
                   CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Shape<2, 5, 5>>({}, ctnn::Conv2D<3, 3>{});
    check_gradients<Backend, Shape<2, 5, 5>>({}, ctnn::Conv2D<2, 3, 2, ctnn::same>{}, ctnn::Tanh{});
    // rows (4 + 2 - 2) / 1 + 1 = 5, cols (5 + 2 - 3) / 2 + 1 = 3
    check_gradients<Backend, Shape<1, 4, 5>>({}, ctnn::Conv2D<2, ctnn::Size2{2, 3}, ctnn::Size2{1, 2}, 1>{},
                                             ctnn::Sigmoid{});
}

TEST_CASE_TEMPLATE("Conv2D: a batch split into chunks gives the per-sample results",
                   Backend, CTNN_TEST_BACKENDS) {
    // 37 samples of a small image: several chunks per thread (the CPU's fast
    // path) or chunks of 32 (the generic driver), and a short last one.
    using Layer = ctnn::Conv2D<3, 3, 1, 1>;
    using In = Shape<2, 5, 5>;
    using Conv = Stack<Backend, In, Layer, ctnn::Tanh>;
    constexpr std::size_t batch = 37, in = In::size, out = 3 * 5 * 5;
    ctnn::Rng rng(5);
    const auto params = ctnn::testing::random_values(Conv::param_count, rng);
    const auto x = ctnn::testing::random_values(batch * in, rng);
    const auto dy = ctnn::testing::random_values(batch * out, rng);

    Conv whole(Layer{}, ctnn::Tanh{});
    std::copy(params.begin(), params.end(), whole.params().begin());
    const auto y = whole.forward(x, batch);
    const std::vector<float> y_whole(y.begin(), y.end());
    const auto dx = whole.backward(dy, batch);
    const std::vector<float> dx_whole(dx.begin(), dx.end());

    std::vector<float> summed(Conv::param_count, 0.0f);
    for (std::size_t n = 0; n < batch; ++n) {
        Conv single(Layer{}, ctnn::Tanh{});
        std::copy(params.begin(), params.end(), single.params().begin());
        const auto y1 = single.forward(std::span(x).subspan(n * in, in), 1);
        for (std::size_t i = 0; i < out; ++i) CHECK(y_whole[n * out + i] == doctest::Approx(y1[i]));
        const auto dx1 = single.backward(std::span(dy).subspan(n * out, out), 1);
        for (std::size_t i = 0; i < in; ++i) CHECK(dx_whole[n * in + i] == doctest::Approx(dx1[i]));
        for (std::size_t i = 0; i < summed.size(); ++i) summed[i] += single.grads()[i];
    }
    for (std::size_t i = 0; i < summed.size(); ++i)
        CHECK(whole.grads()[i] == doctest::Approx(summed[i]).epsilon(1e-4));
}

TEST_CASE_TEMPLATE("Conv2D: L2 regulariser on the kernel only", Backend, CTNN_TEST_BACKENDS) {
    using Layer = ctnn::Conv2D<1, 2>;
    typename ctnn::Sequential<ctnn::Input<1, 2, 2>, Layer>::template on<Backend> net{Layer{.l2 = 0.1f}};
    const std::vector<float> params{1, 2, 3, 4, 5};
    std::copy(params.begin(), params.end(), net.parameters().begin());
    CHECK(net.penalty() == doctest::Approx(0.1 * 30));
    // With dL/dy = 0 only the regulariser contributes: 2 * 0.1 * W, and nothing for the bias.
    const std::vector<float> x{1, 1, 1, 1};
    net.forward(x, 1);
    net.output_gradient()[0] = 0.0f;
    net.backward({}, 1);
    for (std::size_t i = 0; i < 4; ++i) CHECK(net.gradients()[i] == doctest::Approx(0.2 * params[i]));
    CHECK(net.gradients()[4] == 0.0f);
}

TEST_CASE_TEMPLATE("Conv2D: the kernel is (filters, channels, height, width), as PyTorch stores it", Backend,
                   CTNN_TEST_BACKENDS) {
    using Layer = ctnn::Conv2D<4, ctnn::Size2{3, 2}>;
    const typename ctnn::Sequential<ctnn::Input<2, 5, 5>, Layer>::template on<Backend> net{ctnn::Seed{1}};
    const auto kernel = net.template parameter<1, "kernel">();
    CHECK((kernel.shape() == std::array<std::size_t, 4>{4, 2, 3, 2}));
    CHECK(net.template parameter<1, "bias">().size() == 4);
    // Glorot-uniform over Keras's fans: channels and filters times the receptive field.
    const double limit = std::sqrt(6.0 / (2 * 6 + 4 * 6));
    for (float w : kernel) CHECK(std::fabs(w) <= limit);
    CHECK(std::any_of(kernel.begin(), kernel.end(), [](float w) { return w != 0.0f; }));
}

} // namespace layers_conv2d_test
