#include <doctest/doctest.h>

#include <algorithm>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/layers/pooling.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "support/gradient_check.hpp"

using ctnn::backend::Cpu;

namespace {

template <class Net, std::size_t I>
using output_of = typename boost::mp11::mp_at_c<typename Net::layers, I>::output_shape;

using Lenet = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::MaxPool2D<2>, ctnn::Flatten,
                               ctnn::Dense<10>>;
static_assert(std::is_same_v<Lenet::output_shape, ctnn::Shape<10>>);
static_assert(std::is_same_v<output_of<Lenet, 0>, ctnn::Shape<1, 14, 14>>);
static_assert(Lenet::param_count == 14 * 14 * 10 + 10);

// Floor division: (28 - 3) / 2 + 1 = 13, (10 - 4) / 2 + 1 = 4, (7 - 2) / 2 + 1 = 3.
using Stack = ctnn::Sequential<ctnn::Input<3, 28, 28>, ctnn::MaxPool2D<3, 2>, ctnn::AvgPool2D<4, 2>,
                               ctnn::AvgPool2D<2, 2>, ctnn::GlobalAveragePool, ctnn::Dense<5>>;
static_assert(std::is_same_v<output_of<Stack, 0>, ctnn::Shape<3, 13, 13>>);
static_assert(std::is_same_v<output_of<Stack, 1>, ctnn::Shape<3, 5, 5>>);
static_assert(std::is_same_v<output_of<Stack, 2>, ctnn::Shape<3, 2, 2>>);
static_assert(std::is_same_v<output_of<Stack, 3>, ctnn::Shape<3>>);
static_assert(Stack::param_count == 3 * 5 + 5);
static_assert(ctnn::MaxPool2D<4, 2>::param_count<ctnn::Shape<2, 8, 8>> == 0);

// The 4x4 plane used by the reference cases; its 2x2 windows are
//   {1 3 5 0} -> max 5 at 4     {2 4 8 6} -> max 8 at 6
//   {7 9 -1 12} -> max 12 at 13 {11 10 13 15} -> max 15 at 15
const std::vector<float> plane4{1, 3, 2, 4,  //
                                5, 0, 8, 6,  //
                                7, 9, 11, 10, //
                                -1, 12, 13, 15};

} // namespace

TEST_CASE("MaxPool2D: 2x2 windows, reference values and gradient routing") {
    using Impl = ctnn::MaxPool2D<2>::impl<ctnn::Shape<1, 4, 4>, Cpu>;
    Impl pool(ctnn::MaxPool2D<2>{});
    pool.reserve(2);
    // Two samples; the second is the first plus 100, so the same cells win.
    std::vector<float> x = plane4;
    for (float v : plane4) x.push_back(v + 100);
    std::vector<float> y(8), dy{1, 2, 3, 4, 5, 6, 7, 8}, dx(32, -1.0f);
    CHECK(pool.forward({}, nullptr, x.data(), y.data(), 2) == y.data());
    CHECK(y == std::vector<float>{5, 8, 12, 15, 105, 108, 112, 115});

    CHECK(pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 2) ==
          dx.data());
    std::vector<float> expected(32, 0.0f);
    expected[4] = 1, expected[6] = 2, expected[13] = 3, expected[15] = 4;
    expected[16 + 4] = 5, expected[16 + 6] = 6, expected[16 + 13] = 7, expected[16 + 15] = 8;
    CHECK(dx == expected);
    // The first layer gets no dx.
    CHECK(pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), nullptr, 2) ==
          nullptr);
}

TEST_CASE("MaxPool2D: a tie goes to the first maximum in row-major order") {
    ctnn::MaxPool2D<2>::impl<ctnn::Shape<1, 2, 2>, Cpu> pool(ctnn::MaxPool2D<2>{});
    pool.reserve(1);
    std::vector<float> x{3, 7, 7, 7}, y(1), dy{2}, dx(4);
    pool.forward({}, nullptr, x.data(), y.data(), 1);
    pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 1);
    CHECK(y[0] == 7);
    CHECK(dx == std::vector<float>{0, 2, 0, 0});
}

TEST_CASE("MaxPool2D: overlapping 3x3 windows, stride 2, accumulate a shared maximum") {
    // (5 - 3) / 2 + 1 = 2 windows a side, rows/columns 0-2 and 2-4. The 50 at
    // (2, 2) is in all four; the 60 at (3, 4) only in the bottom-right one.
    ctnn::MaxPool2D<3, 2>::impl<ctnn::Shape<1, 5, 5>, Cpu> pool(ctnn::MaxPool2D<3, 2>{});
    pool.reserve(1);
    std::vector<float> x{0,  1,  2,  3,  4,   //
                         5,  6,  7,  8,  9,   //
                         10, 11, 50, 13, 14,  //
                         15, 16, 17, 18, 60,  //
                         20, 21, 22, 23, 24};
    std::vector<float> y(4), dy{1, 2, 3, 4}, dx(25, -1.0f);
    pool.forward({}, nullptr, x.data(), y.data(), 1);
    CHECK(y == std::vector<float>{50, 50, 50, 60});
    pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 1);
    std::vector<float> expected(25, 0.0f);
    expected[12] = 1 + 2 + 3;
    expected[19] = 4;
    CHECK(dx == expected);
}

TEST_CASE("AvgPool2D: 2x2 windows, reference values and gradient") {
    ctnn::AvgPool2D<2>::impl<ctnn::Shape<1, 4, 4>, Cpu> pool(ctnn::AvgPool2D<2>{});
    std::vector<float> y(4), dy{1, 2, 3, 4}, dx(16, -1.0f);
    pool.forward({}, nullptr, plane4.data(), y.data(), 1);
    // (1+3+5+0)/4, (2+4+8+6)/4, (7+9-1+12)/4, (11+10+13+15)/4
    CHECK(y == std::vector<float>{2.25f, 5.0f, 6.75f, 12.25f});
    pool.backward({}, nullptr, nullptr, plane4.data(), y.data(), dy.data(), dx.data(), 1);
    // Each cell gets its window's dy / 4.
    CHECK(dx == std::vector<float>{0.25f, 0.25f, 0.5f, 0.5f,  //
                                   0.25f, 0.25f, 0.5f, 0.5f,  //
                                   0.75f, 0.75f, 1.0f, 1.0f,  //
                                   0.75f, 0.75f, 1.0f, 1.0f});
    CHECK(pool.backward({}, nullptr, nullptr, plane4.data(), y.data(), dy.data(), nullptr, 1) ==
          nullptr);
}

TEST_CASE("AvgPool2D: overlapping 3x3 windows, stride 2, on two channels") {
    // Channel 0 all ones, channel 1 all twos: each output is its channel's
    // value. With dy = 1, a cell's gradient is (windows covering it) / 9:
    // corners 1, edge middles 2, the centre 4.
    ctnn::AvgPool2D<3, 2>::impl<ctnn::Shape<2, 5, 5>, Cpu> pool(ctnn::AvgPool2D<3, 2>{});
    std::vector<float> x(50, 1.0f), y(8), dy(8, 1.0f), dx(50);
    std::fill(x.begin() + 25, x.end(), 2.0f);
    pool.forward({}, nullptr, x.data(), y.data(), 1);
    for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(1.0));
    for (int i = 4; i < 8; ++i) CHECK(y[i] == doctest::Approx(2.0));
    pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 1);
    const int covers[25] = {1, 1, 2, 1, 1,  //
                            1, 1, 2, 1, 1,  //
                            2, 2, 4, 2, 2,  //
                            1, 1, 2, 1, 1,  //
                            1, 1, 2, 1, 1};
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 25; ++i) {
            INFO("channel ", c, ", cell ", i);
            CHECK(dx[c * 25 + i] == doctest::Approx(covers[i] / 9.0));
        }
}

TEST_CASE("GlobalAveragePool: one mean per channel") {
    ctnn::GlobalAveragePool::impl<ctnn::Shape<2, 2, 2>, Cpu> pool(ctnn::GlobalAveragePool{});
    std::vector<float> x{1, 2, 3, 4, 10, 20, 30, 40}, y(2), dy{4, 8}, dx(8);
    pool.forward({}, nullptr, x.data(), y.data(), 1);
    CHECK(y == std::vector<float>{2.5f, 25.0f});
    pool.backward({}, nullptr, nullptr, x.data(), y.data(), dy.data(), dx.data(), 1);
    // d(mean)/d(cell) = 1/4
    CHECK(dx == std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2});
}

TEST_CASE("Pooling: gradients") {
    using namespace ctnn::testing;
    // A smaller step than the default, so that no +-step moves a window's
    // maximum to another cell.
    GradientCheck max_options;
    max_options.step = 1e-3f;
    using Max2 = ctnn::MaxPool2D<2>::impl<ctnn::Shape<2, 4, 6>, Cpu>;
    check_gradients<Max2, 48, 12>(Max2(ctnn::MaxPool2D<2>{}), max_options);
    using Max3s2 = ctnn::MaxPool2D<3, 2>::impl<ctnn::Shape<2, 7, 5>, Cpu>;
    check_gradients<Max3s2, 70, 12>(Max3s2(ctnn::MaxPool2D<3, 2>{}), max_options);
    using Max4s2 = ctnn::MaxPool2D<4, 2>::impl<ctnn::Shape<1, 8, 8>, Cpu>;
    check_gradients<Max4s2, 64, 9>(Max4s2(ctnn::MaxPool2D<4, 2>{}), max_options);

    using Avg2 = ctnn::AvgPool2D<2>::impl<ctnn::Shape<2, 4, 6>, Cpu>;
    check_gradients<Avg2, 48, 12>(Avg2(ctnn::AvgPool2D<2>{}));
    using Avg3s2 = ctnn::AvgPool2D<3, 2>::impl<ctnn::Shape<2, 7, 5>, Cpu>;
    check_gradients<Avg3s2, 70, 12>(Avg3s2(ctnn::AvgPool2D<3, 2>{}));
    using Avg4s2 = ctnn::AvgPool2D<4, 2>::impl<ctnn::Shape<1, 8, 8>, Cpu>;
    check_gradients<Avg4s2, 64, 9>(Avg4s2(ctnn::AvgPool2D<4, 2>{}));

    using Global = ctnn::GlobalAveragePool::impl<ctnn::Shape<3, 4, 5>, Cpu>;
    check_gradients<Global, 60, 3>(Global(ctnn::GlobalAveragePool{}));
}

TEST_CASE("Pooling: results do not depend on the thread count") {
    // 64 samples of 2x28x28: enough planes for parallel_for to split them.
    using Max = ctnn::MaxPool2D<3, 2>::impl<ctnn::Shape<2, 28, 28>, Cpu>;
    using Avg = ctnn::AvgPool2D<3, 2>::impl<ctnn::Shape<2, 28, 28>, Cpu>;
    using Global = ctnn::GlobalAveragePool::impl<ctnn::Shape<2, 28, 28>, Cpu>;
    constexpr std::size_t batch = 64, in = 2 * 28 * 28, pooled = 2 * 13 * 13;
    ctnn::Rng rng(3);
    const std::vector<float> x = ctnn::testing::random_values(batch * in, rng);
    const std::vector<float> dy = ctnn::testing::random_values(batch * pooled, rng);

    auto run = [&] {
        std::vector<float> out;
        auto pass = [&](auto impl, std::size_t out_size) {
            impl.reserve(batch);
            std::vector<float> y(batch * out_size), g(dy.begin(), dy.begin() + batch * out_size),
                dx(batch * in);
            impl.forward({}, nullptr, x.data(), y.data(), batch);
            impl.backward({}, nullptr, nullptr, x.data(), y.data(), g.data(), dx.data(), batch);
            out.insert(out.end(), y.begin(), y.end());
            out.insert(out.end(), dx.begin(), dx.end());
        };
        pass(Max(ctnn::MaxPool2D<3, 2>{}), pooled);
        pass(Avg(ctnn::AvgPool2D<3, 2>{}), pooled);
        pass(Global(ctnn::GlobalAveragePool{}), 2);
        return out;
    };
#if defined(_OPENMP)
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const std::vector<float> serial = run();
    omp_set_num_threads(threads > 1 ? threads : 2);
    const std::vector<float> parallel = run();
    omp_set_num_threads(threads);
    CHECK(serial == parallel);
#else
    CHECK(run() == run());
#endif
}

TEST_CASE("Pooling: trains inside a Sequential, and summaries use Keras's names") {
    using Net = ctnn::Sequential<ctnn::Input<1, 6, 6>, ctnn::MaxPool2D<2>, ctnn::AvgPool2D<2, 1>,
                                 ctnn::GlobalAveragePool, ctnn::Dense<2>>;
    static_assert(std::is_same_v<output_of<Net, 1>, ctnn::Shape<1, 2, 2>>);
    Net net{ctnn::Seed{1}};
    std::vector<float> x(2 * 36);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3.0f;
    auto y = net.forward(x, 2, {ctnn::Mode::training});
    REQUIRE(y.size() == 4);
    std::fill(net.output_gradient(), net.output_gradient() + 4, 1.0f);
    net.backward({ctnn::Mode::training}, 2);
    // Dense<2> on one input, dy = 1 for both units: the two kernel gradients
    // agree, and each bias gradient counts the samples.
    CHECK(net.gradients()[0] == doctest::Approx(net.gradients()[1]));
    CHECK(net.gradients()[2] == doctest::Approx(2.0));

    std::ostringstream text;
    ctnn::summary(net, text);
    CHECK(text.str().find("max_pooling2d (MaxPooling2D)") != std::string::npos);
    CHECK(text.str().find("average_pooling2d (AveragePooling2D)") != std::string::npos);
    CHECK(text.str().find("global_average_pooling2d (GlobalAveragePooling2D)") !=
          std::string::npos);
    CHECK(text.str().find("(None, 1, 3, 3)") != std::string::npos);
}
