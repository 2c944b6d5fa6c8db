// SumOfNumbers: the distribution of the sum of two numbers read digit by digit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_sum_of_numbers_test {

using ctnn::Shape;
using ctnn::Shapes;

template <class Layer, class In>
using output_of = decltype(Layer::template output_shape<1, In>());

// P(a + b = s) by brute force over every pair of D-digit numbers, in double:
// logits hold a's D rows of 10, then b's, most significant digit first.
std::vector<double> brute_force_sums(const float* logits, std::size_t digits) {
    auto probabilities = [&](const float* row) {
        std::vector<double> p(10);
        double total = 0.0;
        for (std::size_t d = 0; d < 10; ++d) total += p[d] = std::exp(double(row[d]));
        for (double& v : p) v /= total;
        return p;
    };
    std::size_t numbers = 1;
    for (std::size_t j = 0; j < digits; ++j) numbers *= 10;
    auto number_probabilities = [&](const float* rows) {
        std::vector<double> p(numbers, 1.0);
        for (std::size_t n = 0; n < numbers; ++n) {
            std::size_t rest = n;
            for (std::size_t row = digits; row-- > 0; rest /= 10) p[n] *= probabilities(rows + row * 10)[rest % 10];
        }
        return p;
    };
    const std::vector<double> a = number_probabilities(logits), b = number_probabilities(logits + digits * 10);
    std::vector<double> sums(2 * numbers - 1, 0.0);
    for (std::size_t x = 0; x < numbers; ++x)
        for (std::size_t y = 0; y < numbers; ++y) sums[x + y] += a[x] * b[y];
    return sums;
}

static_assert(std::is_same_v<output_of<ctnn::SumOfNumbers, Shapes<Shape<1, 10>, Shape<1, 10>>>, Shape<19>>);
static_assert(std::is_same_v<output_of<ctnn::SumOfNumbers, Shapes<Shape<3, 10>, Shape<3, 10>>>, Shape<1999>>);

TEST_CASE_TEMPLATE("SumOfNumbers: log P(a + b = s), against every pair of numbers", Backend, CTNN_TEST_BACKENDS) {
    ctnn::Rng rng(3);
    // Two samples; the second reads 7 and 25 almost surely, with leading zeros.
    const std::size_t digits = 2, width = 2 * digits * 10;
    std::vector<float> x = ctnn::testing::random_values(2 * width, rng);
    for (std::size_t i = width; i < 2 * width; ++i) x[i] = -8.0f;
    x[width + 0 * 10 + 0] = x[width + 1 * 10 + 7] = 8.0f;
    x[width + 2 * 10 + 2] = x[width + 3 * 10 + 5] = 8.0f;

    ctnn::testing::LayerStack<Backend, Shapes<Shape<2, 10>, Shape<2, 10>>, ctnn::Fusion::fused, ctnn::SumOfNumbers>
        sum(ctnn::SumOfNumbers{});
    const auto y = sum.forward(x, 2);
    REQUIRE(y.size() == 2 * 199);
    for (std::size_t sample = 0; sample < 2; ++sample) {
        const std::vector<double> expected = brute_force_sums(x.data() + sample * width, digits);
        double total = 0.0;
        for (std::size_t s = 0; s < 199; ++s) {
            INFO("sample ", sample, ", sum ", s);
            CHECK(y[sample * 199 + s] == doctest::Approx(std::log(expected[s])).epsilon(1e-5));
            total += std::exp(double(y[sample * 199 + s]));
        }
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
    }
    CHECK(std::max_element(y.begin() + 199, y.end()) - (y.begin() + 199) == 32);
    CHECK(std::exp(y[199 + 32]) > 0.999);
}

TEST_CASE_TEMPLATE("SumOfNumbers: three digits, a carry through every position", Backend, CTNN_TEST_BACKENDS) {
    // 199 + 1 = 200 carries twice; readings of 9 are half 9, half 8.
    std::vector<float> x(60, -30.0f);
    auto read = [&](std::size_t number, std::size_t row, std::size_t digit, float logit) {
        x[number * 30 + row * 10 + digit] = logit;
    };
    read(0, 0, 1, 0.0f);
    read(0, 1, 9, 0.0f), read(0, 1, 8, 0.0f);
    read(0, 2, 9, 0.0f);
    read(1, 0, 0, 0.0f), read(1, 1, 0, 0.0f), read(1, 2, 1, 0.0f);
    ctnn::testing::LayerStack<Backend, Shapes<Shape<3, 10>, Shape<3, 10>>, ctnn::Fusion::fused, ctnn::SumOfNumbers>
        sum(ctnn::SumOfNumbers{});
    const auto y = sum.forward(x, 1);
    CHECK(std::exp(y[200]) == doctest::Approx(0.5).epsilon(1e-4));  // 199 + 1
    CHECK(std::exp(y[190]) == doctest::Approx(0.5).epsilon(1e-4));  // 189 + 1
    CHECK(std::exp(y[199]) < 1e-10);
}

TEST_CASE_TEMPLATE("SumOfNumbers: gradients, alone and through a shared reader", Backend, CTNN_TEST_BACKENDS) {
    using ctnn::testing::check_gradients;
    check_gradients<Backend, Shapes<Shape<1, 10>, Shape<1, 10>>>({}, ctnn::SumOfNumbers{});
    check_gradients<Backend, Shapes<Shape<3, 10>, Shape<3, 10>>>({.batch = 2}, ctnn::SumOfNumbers{});
    check_gradients<Backend, Shapes<Shape<5>, Shape<5>>>(
        {}, ctnn::Shared<ctnn::Dense<20>, ctnn::Reshape<2, 10>>{}, ctnn::SumOfNumbers{}, ctnn::Softmax{});
}

// The end-to-end idea in small: a reader of one-hot digits in a scrambled
// code learns which digit each code is from the sums of pairs alone.
TEST_CASE_TEMPLATE("SumOfNumbers: a reader learns digits from their sums alone", Backend, CTNN_TEST_BACKENDS) {
    using Reader = ctnn::Branch<ctnn::Dense<10>, ctnn::Reshape<1, 10>>;
    using Net = ctnn::Sequential<ctnn::Inputs<Shape<10>, Shape<10>>, ctnn::Shared<Reader>, ctnn::SumOfNumbers,
                                 ctnn::Softmax>::on<Backend>;
    const std::size_t code_of[10] = {3, 7, 0, 9, 5, 1, 8, 2, 6, 4};
    const std::size_t pairs = 2000;
    ctnn::data::Dataset set{xt::zeros<float>({pairs, std::size_t(20)}), xt::zeros<float>({pairs, std::size_t(1)})};
    ctnn::Rng rng(5);
    for (std::size_t i = 0; i < pairs; ++i) {
        const std::size_t a = rng.below(10), b = rng.below(10);
        set.inputs(i, code_of[a]) = 1.0f;
        set.inputs(i, 10 + code_of[b]) = 1.0f;
        set.targets(i, 0) = float(a + b);
    }
    Net net{ctnn::Seed{2}};
    ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, set,
              {.epochs = 5, .batch_size = 50, .seed = 1, .verbosity = ctnn::Verbosity::silent});
    CHECK(ctnn::evaluate(net, set, ctnn::CategoricalCrossEntropy{}).accuracy == 1.0);

    // The reader alone reads every digit.
    auto reader = ctnn::branch_network<1>(net);
    xt::xtensor<float, 2> codes = xt::eye<float>(10);
    const auto readings = ctnn::predict(reader, codes);
    for (std::size_t digit = 0; digit < 10; ++digit) {
        const float* row = &readings(code_of[digit], 0, 0);
        CHECK(std::size_t(std::max_element(row, row + 10) - row) == digit);
    }
}

} // namespace layers_sum_of_numbers_test
