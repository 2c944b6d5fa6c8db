#include <doctest/doctest.h>

#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;
using ctnn::Shape;

// Shapes: valid, same and fixed padding, strides, rectangular kernels.
template <class Layer, class In>
using out_shape = decltype(Layer::template output_shape<1, In>());
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<32, 5>, Shape<1, 28, 28>>, Shape<32, 24, 24>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<9, 3, 1, ctnn::same>, Shape<1, 28, 28>>, Shape<9, 28, 28>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<32, 5, 1, 2>, Shape<3, 32, 32>>, Shape<32, 32, 32>>);
static_assert(std::is_same_v<out_shape<ctnn::Conv2D<8, ctnn::Size2{3, 5}, 2>, Shape<3, 32, 32>>, Shape<8, 15, 14>>);
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
static_assert(CifarCnn::pass_count == 7, "each Conv2D absorbs its ReLU and pooling, each Dense its ReLU");

namespace {

template <class Layer, class In>
std::vector<float> run(const Layer& layer, std::vector<float> params, std::vector<float> x,
                       std::size_t batch = 1) {
    typename Layer::template impl<In, Cpu> impl(layer);
    using Out = out_shape<Layer, In>;
    impl.reserve(batch);
    std::vector<float> y(batch * Out::size);
    impl.forward({}, params.data(), x.data(), y.data(), batch);
    return y;
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

} // namespace

TEST_CASE("Conv2D: hand-computed outputs for valid, same and strided padding") {
    const std::vector<float> image{1, 2, 3, 4, 5, 6, 7, 8, 9};
    // Kernel [[1, 2], [3, 4]], bias 0.5: top-left 1*1 + 2*2 + 3*4 + 4*5 + 0.5 = 37.5.
    auto valid = run<ctnn::Conv2D<1, 2>, Shape<1, 3, 3>>({}, {1, 2, 3, 4, 0.5f}, image);
    CHECK((valid == std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f}));
    // A 3x3 kernel of ones with "same" padding sums each zero-padded neighbourhood.
    std::vector<float> ones(9, 1.0f);
    ones.push_back(0.0f);
    auto same = run<ctnn::Conv2D<1, 3, 1, ctnn::same>, Shape<1, 3, 3>>({}, ones, image);
    CHECK((same == std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
    // One zero row/column each side, stride 2: windows centred on the corners.
    auto strided = run<ctnn::Conv2D<1, 3, 2, 1>, Shape<1, 3, 3>>({}, ones, image);
    CHECK((strided == std::vector<float>{12, 16, 24, 28}));
}

TEST_CASE("Conv2D: batches, channels, strides and rectangular kernels match direct convolution") {
    ctnn::Rng rng(21);
    constexpr std::size_t batch = 3;
    {
        using Layer = ctnn::Conv2D<4, ctnn::Size2{3, 2}, ctnn::Size2{2, 1}, 1>;
        auto params = ctnn::testing::random_values(4 * 2 * 3 * 2 + 4, rng);
        auto x = ctnn::testing::random_values(batch * 2 * 7 * 6, rng);
        auto got = run<Layer, Shape<2, 7, 6>>(Layer{}, params, x, batch);
        // rows: (7 + 2 - 3) / 2 + 1 = 4; cols: (6 + 2 - 2) / 1 + 1 = 7
        auto expected = direct<2, 7, 6, 4, 3, 2, 2, 1, 1, 1, 4, 7>(params, x, batch);
        REQUIRE(got.size() == expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
    {
        using Layer = ctnn::Conv2D<3, 3, 2, ctnn::same>;
        auto params = ctnn::testing::random_values(3 * 2 * 9 + 3, rng);
        auto x = ctnn::testing::random_values(batch * 2 * 6 * 6, rng);
        auto got = run<Layer, Shape<2, 6, 6>>(Layer{}, params, x, batch);
        // same, stride 2: 3x3 output; needs (3-1)*2+3 = 7 > 6, so the one padding row goes after.
        auto expected = direct<2, 6, 6, 3, 3, 3, 2, 2, 0, 0, 3, 3>(params, x, batch);
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
}

TEST_CASE("Conv2D: gradients with padding, stride, rectangular kernels and fused activations") {
    using namespace ctnn::testing;
    {
        using Impl = ctnn::Conv2D<3, 3>::impl<Shape<2, 5, 5>, Cpu>;
        check_gradients<Impl, 50, 27>(Impl(ctnn::Conv2D<3, 3>{}));
    }
    {
        using Layer = ctnn::Conv2D<2, 3, 2, ctnn::same>;
        using Impl = Layer::impl<Shape<2, 5, 5>, Cpu, ctnn::ops::Tanh>;
        check_gradients<Impl, 50, 18>(Impl(Layer{}, {}));
    }
    {
        using Layer = ctnn::Conv2D<2, ctnn::Size2{2, 3}, ctnn::Size2{1, 2}, 1>;
        using Impl = Layer::impl<Shape<1, 4, 5>, Cpu, ctnn::ops::Sigmoid>;
        // rows (4 + 2 - 2) / 1 + 1 = 5, cols (5 + 2 - 3) / 2 + 1 = 3
        check_gradients<Impl, 20, 30>(Impl(Layer{}, {}));
    }
}

TEST_CASE("Conv2D: a batch split into per-thread chunks gives the per-sample results") {
    // 37 samples of a small image: several chunks per thread, a short last one.
    using Layer = ctnn::Conv2D<3, 3, 1, 1>;
    using In = Shape<2, 5, 5>;
    using Impl = Layer::impl<In, Cpu, ctnn::ops::Tanh>;
    constexpr std::size_t batch = 37, in = In::size, out = 3 * 5 * 5;
    ctnn::Rng rng(5);
    auto params = ctnn::testing::random_values(Impl::param_count, rng);
    auto x = ctnn::testing::random_values(batch * in, rng);
    auto dy = ctnn::testing::random_values(batch * out, rng);

    Impl whole(Layer{}, {});
    std::vector<float> y(batch * out), dx(batch * in), grads(Impl::param_count);
    whole.forward({}, params.data(), x.data(), y.data(), batch);
    auto dy_whole = dy;
    whole.backward({}, params.data(), grads.data(), x.data(), y.data(), dy_whole.data(), dx.data(),
                   batch);

    std::vector<float> summed(Impl::param_count, 0.0f);
    for (std::size_t n = 0; n < batch; ++n) {
        Impl single(Layer{}, {});
        std::vector<float> y1(out), dx1(in), grads1(Impl::param_count);
        std::vector<float> dy1(dy.begin() + long(n * out), dy.begin() + long((n + 1) * out));
        single.forward({}, params.data(), x.data() + n * in, y1.data(), 1);
        single.backward({}, params.data(), grads1.data(), x.data() + n * in, y1.data(), dy1.data(),
                        dx1.data(), 1);
        for (std::size_t i = 0; i < out; ++i) CHECK(y[n * out + i] == doctest::Approx(y1[i]));
        for (std::size_t i = 0; i < in; ++i) CHECK(dx[n * in + i] == doctest::Approx(dx1[i]));
        for (std::size_t i = 0; i < summed.size(); ++i) summed[i] += grads1[i];
    }
    for (std::size_t i = 0; i < summed.size(); ++i)
        CHECK(grads[i] == doctest::Approx(summed[i]).epsilon(1e-4));
}

TEST_CASE("Conv2D: L2 regulariser on the kernel only") {
    using Layer = ctnn::Conv2D<1, 2>;
    Layer::impl<Shape<1, 2, 2>, Cpu> conv(Layer{.l2 = 0.1f});
    std::vector<float> params{1, 2, 3, 4, 5};
    CHECK(conv.penalty(params.data()) == doctest::Approx(0.1 * 30));
}
