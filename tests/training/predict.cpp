// predict(): a network's outputs over a whole input matrix, in batches,
// shaped (samples, output dims...).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace training_predict_test {

xt::xtensor<float, 2> random_inputs(std::size_t n, std::size_t width, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    const std::vector<float> values = ctnn::testing::random_values(n * width, rng);
    xt::xtensor<float, 2> inputs({n, width});
    std::copy(values.begin(), values.end(), inputs.begin());
    return inputs;
}

TEST_CASE_TEMPLATE("predict: one row of outputs per input row; wrong widths rejected", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<16>, ctnn::Tanh,
                                          ctnn::Dense<3>, ctnn::Softmax>::template on<Backend>;
    Net net{ctnn::Seed{1}};
    const auto inputs = random_inputs(10, 2, 1);
    auto out = ctnn::predict(net, inputs, 4);
    static_assert(decltype(out)::rank == 2);
    REQUIRE(out.shape(0) == 10);
    REQUIRE(out.shape(1) == 3);
    for (std::size_t i = 0; i < 10; ++i)
        CHECK(out(i, 0) + out(i, 1) + out(i, 2) == doctest::Approx(1.0));
    // Batches of 4, 4 and 2 give the rows one forward call over all ten gives.
    const auto all = net.forward(std::vector<float>(inputs.begin(), inputs.end()), 10);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(out.flat(i) == doctest::Approx(all[i]));
    CHECK_THROWS_AS(ctnn::predict(net, xt::xtensor<float, 2>({2, 5})), std::invalid_argument);
}

TEST_CASE_TEMPLATE("predict: sequence outputs are (samples, steps, classes)", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<3, 2>, ctnn::TimeDistributed<ctnn::Dense<4>>,
                                          ctnn::Softmax>::template on<Backend>;
    Net net{ctnn::Seed{2}};
    const auto inputs = random_inputs(5, 6, 3);
    auto out = ctnn::predict(net, inputs, 2);
    static_assert(decltype(out)::rank == 3);
    REQUIRE(out.shape(0) == 5);
    REQUIRE(out.shape(1) == 3);
    REQUIRE(out.shape(2) == 4);
    // A distribution per step.
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t t = 0; t < 3; ++t) {
            CAPTURE(i);
            CAPTURE(t);
            const double sum = double(out(i, t, 0)) + out(i, t, 1) + out(i, t, 2) + out(i, t, 3);
            CHECK(sum == doctest::Approx(1.0));
        }
    const auto all = net.forward(std::vector<float>(inputs.begin(), inputs.end()), 5);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(out.flat(i) == doctest::Approx(all[i]));
}

} // namespace training_predict_test
