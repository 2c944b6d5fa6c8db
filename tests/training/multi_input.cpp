// Networks with several inputs in fit, evaluate and predict: a sample's
// inputs side by side in its row (data::join_inputs).
#include <doctest/doctest.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xtensor.hpp>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace training_multi_input_test {

using ctnn::Shape;

// Which of two vectors has the larger sum: the same question of each, so
// one shared branch scores both and the head compares the scores.
using Comparer = ctnn::Sequential<ctnn::Inputs<Shape<4>, Shape<4>>, ctnn::Shared<ctnn::Dense<8>, ctnn::Tanh, ctnn::Dropout>,
                                  ctnn::Concatenate, ctnn::Dense<2>, ctnn::Softmax>;

struct Pairs {
    xt::xtensor<float, 2> first, second, labels;
};

Pairs pairs(std::size_t n, std::uint64_t seed) {
    Pairs p{xt::xtensor<float, 2>({n, 4}), xt::xtensor<float, 2>({n, 4}), xt::xtensor<float, 2>({n, 1})};
    ctnn::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        float a = 0, b = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            a += p.first(i, j) = rng.normal();
            b += p.second(i, j) = rng.normal();
        }
        p.labels(i, 0) = float(a > b);
    }
    return p;
}

TEST_CASE("join_inputs: each sample's inputs side by side; inputs of different lengths refused") {
    const xt::xtensor<float, 2> a{{1, 2}, {3, 4}}, b{{5}, {6}};
    const xt::xtensor<float, 2> joined = ctnn::data::join_inputs(a, b);
    CHECK(joined == xt::xtensor<float, 2>{{1, 2, 5}, {3, 4, 6}});
    const xt::xtensor<float, 2> short_one{{7}};
    CHECK_THROWS_WITH_AS(ctnn::data::join_inputs(a, short_one), "ctnn: join_inputs: input 1 has 1 rows, input 0 has 2",
                         std::invalid_argument);
}

TEST_CASE_TEMPLATE("a siamese network trains with fit on joined inputs, and evaluates and predicts on them", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename Comparer::template on<Backend>;
    const Pairs train = pairs(512, 1), test = pairs(256, 2);
    const ctnn::data::Dataset training{ctnn::data::join_inputs(train.first, train.second), train.labels};
    const ctnn::data::Dataset testing{ctnn::data::join_inputs(test.first, test.second), test.labels};
    Net net{ctnn::Seed{4}, ctnn::Dropout{0.1f}};  // the Dropout inside Shared
    const float before = ctnn::evaluate(net, testing).accuracy;
    ctnn::fit(net, ctnn::Adam{0.02f}, ctnn::CategoricalCrossEntropy{}, training,
              {.epochs = 8, .batch_size = 32, .seed = 3, .verbosity = ctnn::Verbosity::silent});
    const float after = ctnn::evaluate(net, testing).accuracy;
    INFO("accuracy before ", before, ", after ", after);
    CHECK(after > 0.9f);
    const xt::xtensor<float, 2> probabilities = ctnn::predict(net, testing.inputs);
    REQUIRE(probabilities.shape(0) == 256);
    std::size_t right = 0;
    for (std::size_t i = 0; i < 256; ++i)
        right += (probabilities(i, 1) > probabilities(i, 0)) == (test.labels(i, 0) == 1.0f);
    CHECK(float(right) / 256 == doctest::Approx(after));
}

TEST_CASE("a data set of the wrong width for a network with two inputs is refused, naming both inputs") {
    Comparer net;
    const Pairs p = pairs(8, 1);
    const ctnn::data::Dataset first_only{p.first, p.labels};
    try {
        ctnn::evaluate(net, first_only);
        FAIL("no error");
    } catch (const std::invalid_argument& error) {
        INFO(error.what());
        CHECK(std::string(error.what()).find("Shapes<Shape<4>, Shape<4>>") != std::string::npos);
    }
}

TEST_CASE("backward_to_inputs through a shared branch gives each input its gradient") {
    using Net = ctnn::Sequential<ctnn::Inputs<Shape<3>, Shape<3>>, ctnn::Shared<ctnn::Dense<1>>, ctnn::Add>;
    Net net;
    // Both uses share w = [1, 2, 3]: d(y)/d(first) = d(y)/d(second) = w.
    const std::vector<float> params{1, 2, 3, 0};
    net.set_parameters(params);
    const std::vector<float> x{1, 1, 1, 2, 2, 2};
    const ctnn::Context training{ctnn::Mode::training};
    const auto y = net.forward(x, 1, training);
    CHECK(y[0] == 18.0f);
    net.output_gradient()[0] = 1.0f;
    const auto dx = net.backward_to_inputs(training, 1);
    const std::vector<float> expected{1, 2, 3, 1, 2, 3};
    for (std::size_t i = 0; i < 6; ++i) CHECK(dx[i] == expected[i]);
    const std::vector<float> grads = net.host_gradients();
    // The weights' gradient sums both uses: x1 + x2 = 3 each, and the bias's 2.
    CHECK(grads == std::vector<float>{3, 3, 3, 2});
}

} // namespace training_multi_input_test
