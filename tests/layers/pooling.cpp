#include <doctest/doctest.h>

#include <algorithm>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/io/summary.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/layers/pooling.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_pooling_test {

using ctnn::testing::LayerStack;

template <class Backend, class In, class Layer>
using PoolStack = LayerStack<Backend, In, ctnn::Fusion::fused, Layer>;

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
static_assert(ctnn::own_param_count<ctnn::MaxPool2D<4, 2>, ctnn::Shape<2, 8, 8>> == 0);

// The 4x4 plane used by the reference cases; its 2x2 windows are
//   {1 3 5 0} -> max 5 at 4     {2 4 8 6} -> max 8 at 6
//   {7 9 -1 12} -> max 12 at 13 {11 10 13 15} -> max 15 at 15
const std::vector<float> plane4{1, 3, 2, 4,  //
                                5, 0, 8, 6,  //
                                7, 9, 11, 10, //
                                -1, 12, 13, 15};

std::vector<float> values(std::span<const float> s) { return {s.begin(), s.end()}; }

TEST_CASE_TEMPLATE("MaxPool2D: 2x2 windows, reference values and gradient routing",
                   Backend, CTNN_TEST_BACKENDS) {
    PoolStack<Backend, ctnn::Shape<1, 4, 4>, ctnn::MaxPool2D<2>> pool(ctnn::MaxPool2D<2>{});
    // Two samples; the second is the first plus 100, so the same cells win.
    std::vector<float> x = plane4;
    for (float v : plane4) x.push_back(v + 100);
    const std::vector<float> dy{1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(values(pool.forward(x, 2)) == std::vector<float>{5, 8, 12, 15, 105, 108, 112, 115});

    std::vector<float> expected(32, 0.0f);
    expected[4] = 1, expected[6] = 2, expected[13] = 3, expected[15] = 4;
    expected[16 + 4] = 5, expected[16 + 6] = 6, expected[16 + 13] = 7, expected[16 + 15] = 8;
    CHECK(values(pool.backward(dy, 2)) == expected);
}

TEST_CASE_TEMPLATE("MaxPool2D: a tie goes to the first maximum in row-major order",
                   Backend, CTNN_TEST_BACKENDS) {
    PoolStack<Backend, ctnn::Shape<1, 2, 2>, ctnn::MaxPool2D<2>> pool(ctnn::MaxPool2D<2>{});
    const std::vector<float> x{3, 7, 7, 7}, dy{2};
    CHECK(pool.forward(x, 1)[0] == 7);
    CHECK(values(pool.backward(dy, 1)) == std::vector<float>{0, 2, 0, 0});
}

TEST_CASE_TEMPLATE("MaxPool2D: overlapping 3x3 windows, stride 2, accumulate a shared maximum", Backend,
                   CTNN_TEST_BACKENDS) {
    // (5 - 3) / 2 + 1 = 2 windows a side, rows/columns 0-2 and 2-4. The 50 at
    // (2, 2) is in all four; the 60 at (3, 4) only in the bottom-right one.
    PoolStack<Backend, ctnn::Shape<1, 5, 5>, ctnn::MaxPool2D<3, 2>> pool(ctnn::MaxPool2D<3, 2>{});
    const std::vector<float> x{0,  1,  2,  3,  4,   //
                               5,  6,  7,  8,  9,   //
                               10, 11, 50, 13, 14,  //
                               15, 16, 17, 18, 60,  //
                               20, 21, 22, 23, 24};
    const std::vector<float> dy{1, 2, 3, 4};
    CHECK(values(pool.forward(x, 1)) == std::vector<float>{50, 50, 50, 60});
    std::vector<float> expected(25, 0.0f);
    expected[12] = 1 + 2 + 3;
    expected[19] = 4;
    CHECK(values(pool.backward(dy, 1)) == expected);
}

TEST_CASE_TEMPLATE("AvgPool2D: 2x2 windows, reference values and gradient", Backend, CTNN_TEST_BACKENDS) {
    PoolStack<Backend, ctnn::Shape<1, 4, 4>, ctnn::AvgPool2D<2>> pool(ctnn::AvgPool2D<2>{});
    const std::vector<float> dy{1, 2, 3, 4};
    // (1+3+5+0)/4, (2+4+8+6)/4, (7+9-1+12)/4, (11+10+13+15)/4
    CHECK(values(pool.forward(plane4, 1)) == std::vector<float>{2.25f, 5.0f, 6.75f, 12.25f});
    // Each cell gets its window's dy / 4.
    CHECK(values(pool.backward(dy, 1)) == std::vector<float>{0.25f, 0.25f, 0.5f, 0.5f,  //
                                                              0.25f, 0.25f, 0.5f, 0.5f,  //
                                                              0.75f, 0.75f, 1.0f, 1.0f,  //
                                                              0.75f, 0.75f, 1.0f, 1.0f});
}

TEST_CASE_TEMPLATE("AvgPool2D: overlapping 3x3 windows, stride 2, on two channels",
                   Backend, CTNN_TEST_BACKENDS) {
    // Channel 0 all ones, channel 1 all twos: each output is its channel's
    // value. With dy = 1, a cell's gradient is (windows covering it) / 9:
    // corners 1, edge middles 2, the centre 4.
    PoolStack<Backend, ctnn::Shape<2, 5, 5>, ctnn::AvgPool2D<3, 2>> pool(ctnn::AvgPool2D<3, 2>{});
    std::vector<float> x(50, 1.0f);
    std::fill(x.begin() + 25, x.end(), 2.0f);
    const std::vector<float> dy(8, 1.0f);
    const auto y = pool.forward(x, 1);
    for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(1.0));
    for (int i = 4; i < 8; ++i) CHECK(y[i] == doctest::Approx(2.0));
    const auto dx = pool.backward(dy, 1);
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

TEST_CASE_TEMPLATE("GlobalAveragePool: one mean per channel", Backend, CTNN_TEST_BACKENDS) {
    PoolStack<Backend, ctnn::Shape<2, 2, 2>, ctnn::GlobalAveragePool> pool(ctnn::GlobalAveragePool{});
    const std::vector<float> x{1, 2, 3, 4, 10, 20, 30, 40}, dy{4, 8};
    CHECK(values(pool.forward(x, 1)) == std::vector<float>{2.5f, 25.0f});
    // d(mean)/d(cell) = 1/4
    CHECK(values(pool.backward(dy, 1)) == std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2});
}

TEST_CASE_TEMPLATE("Pooling: gradients", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::Shape;
    using ctnn::testing::check_gradients;
    // A smaller step than the default, so that no +-step moves a window's
    // maximum to another cell.
    const ctnn::testing::GradientCheck max_options{.step = 1e-3f};
    check_gradients<Backend, Shape<2, 4, 6>>(max_options, ctnn::MaxPool2D<2>{});
    check_gradients<Backend, Shape<2, 7, 5>>(max_options, ctnn::MaxPool2D<3, 2>{});
    check_gradients<Backend, Shape<1, 8, 8>>(max_options, ctnn::MaxPool2D<4, 2>{});

    check_gradients<Backend, Shape<2, 4, 6>>({}, ctnn::AvgPool2D<2>{});
    check_gradients<Backend, Shape<2, 7, 5>>({}, ctnn::AvgPool2D<3, 2>{});
    check_gradients<Backend, Shape<1, 8, 8>>({}, ctnn::AvgPool2D<4, 2>{});

    check_gradients<Backend, Shape<3, 4, 5>>({}, ctnn::GlobalAveragePool{});
}

TEST_CASE_TEMPLATE("Pooling: results do not depend on the thread count", Backend, CTNN_TEST_BACKENDS) {
    // 64 samples of 2x28x28: enough planes for the backend to split them.
    using In = ctnn::Shape<2, 28, 28>;
    constexpr std::size_t batch = 64, pooled = 2 * 13 * 13;
    ctnn::Rng rng(3);
    const std::vector<float> x = ctnn::testing::random_values(batch * In::size, rng);
    const std::vector<float> dy = ctnn::testing::random_values(batch * pooled, rng);

    auto run = [&] {
        std::vector<float> out;
        auto pass = [&]<class Layer>(Layer layer, std::size_t out_size) {
            PoolStack<Backend, In, Layer> pool(layer);
            const auto y = pool.forward(x, batch);
            out.insert(out.end(), y.begin(), y.end());
            const auto dx = pool.backward(std::span(dy).first(batch * out_size), batch);
            out.insert(out.end(), dx.begin(), dx.end());
        };
        pass(ctnn::MaxPool2D<3, 2>{}, pooled);
        pass(ctnn::AvgPool2D<3, 2>{}, pooled);
        pass(ctnn::GlobalAveragePool{}, 2);
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

TEST_CASE_TEMPLATE("Pooling: trains inside a Sequential, and summaries use Keras's names", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<1, 6, 6>, ctnn::MaxPool2D<2>, ctnn::AvgPool2D<2, 1>,
                                          ctnn::GlobalAveragePool, ctnn::Dense<2>>::template on<Backend>;
    static_assert(std::is_same_v<output_of<Net, 1>, ctnn::Shape<1, 2, 2>>);
    Net net{ctnn::Seed{1}};
    std::vector<float> x(2 * 36);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3.0f;
    const auto y = net.forward(x, 2, {ctnn::Mode::training});
    REQUIRE(y.size() == 4);
    std::fill(net.output_gradient(), net.output_gradient() + 4, 1.0f);
    net.backward({ctnn::Mode::training}, 2);
    // Dense<2> on one input, dy = 1 for both units: the two kernel gradients
    // agree, and each bias gradient counts the samples.
    CHECK(net.gradients()[0] == doctest::Approx(net.gradients()[1]));
    CHECK(net.gradients()[0] != 0.0f);
    CHECK(net.gradients()[2] == doctest::Approx(2.0));

    std::ostringstream text;
    ctnn::summary(net, text);
    CHECK(text.str().find("max_pooling2d (MaxPooling2D)") != std::string::npos);
    CHECK(text.str().find("average_pooling2d (AveragePooling2D)") != std::string::npos);
    CHECK(text.str().find("global_average_pooling2d (GlobalAveragePooling2D)") !=
          std::string::npos);
    CHECK(text.str().find("(None, 1, 3, 3)") != std::string::npos);
}

} // namespace layers_pooling_test
