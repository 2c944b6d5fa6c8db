#include <ctnn/losses/binary_cross_entropy.hpp>
#include <ctnn/losses/categorical_cross_entropy.hpp>
#include <ctnn/losses/loss.hpp>
#include <ctnn/losses/mean_squared_error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backends.hpp"

namespace losses_losses_test {

// The batches are host vectors, which the test backends (host memory) read
// in place.

using ctnn::BinaryCrossEntropy;
using ctnn::CategoricalCrossEntropy;
using ctnn::LossBatch;
using ctnn::MeanSquaredError;

// Predictions and targets owned together, seen as a LossBatch.
struct Batch {
    std::vector<float> predictions;
    std::vector<float> targets;
    std::size_t rows;
    std::size_t width;
    std::size_t target_width;

    LossBatch view() const {
        return {predictions.data(), targets.data(), rows, width, target_width};
    }
};

template <class Backend, class Loss>
std::vector<float> gradient_of(const Backend& backend, const Loss& loss, const Batch& b) {
    std::vector<float> g(b.predictions.size(), std::numeric_limits<float>::quiet_NaN());
    loss.gradient(backend, b.view(), g.data());
    return g;
}

template <class Backend, class Loss>
std::vector<float> folded_gradient_of(const Backend& backend, const Loss& loss, const Batch& b) {
    std::vector<float> g(b.predictions.size(), std::numeric_limits<float>::quiet_NaN());
    loss.folded_gradient(backend, b.view(), g.data());
    return g;
}

// Relative 1e-3, with a 1e-4 floor so entries near zero are not held to a
// tighter bound than float round-off in value() allows.
doctest::Approx near(double expected) { return doctest::Approx(expected).epsilon(1e-3).scale(0.1); }

// gradient() against central differences of value() in each prediction. The
// step actually taken is measured in float, since p + h rounds.
template <class Backend, class Loss>
void check_gradient_by_differences(const Backend& backend, const Loss& loss, const Batch& batch) {
    const std::vector<float> analytic = gradient_of(backend, loss, batch);
    const float h = 1e-3f;
    for (std::size_t i = 0; i < batch.predictions.size(); ++i) {
        CAPTURE(i);
        Batch plus = batch, minus = batch;
        plus.predictions[i] += h;
        minus.predictions[i] -= h;
        const double step = double(plus.predictions[i]) - double(minus.predictions[i]);
        const double numeric = (double(loss.value(backend, plus.view())) -
                                double(loss.value(backend, minus.view()))) /
                               step;
        CHECK(numeric == near(analytic[i]));
    }
}

// Double-precision activations written here, not taken from the library.
std::vector<double> softmax_rows(const std::vector<double>& z, std::size_t width) {
    std::vector<double> p(z.size());
    for (std::size_t r = 0; r < z.size() / width; ++r) {
        const double* in = z.data() + r * width;
        const double top = *std::max_element(in, in + width);
        double sum = 0.0;
        for (std::size_t c = 0; c < width; ++c) sum += p[r * width + c] = std::exp(in[c] - top);
        for (std::size_t c = 0; c < width; ++c) p[r * width + c] /= sum;
    }
    return p;
}

std::vector<double> sigmoid(const std::vector<double>& z, std::size_t) {
    std::vector<double> p(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) p[i] = 1.0 / (1.0 + std::exp(-z[i]));
    return p;
}

using Activation = std::function<std::vector<double>(const std::vector<double>&, std::size_t)>;

Batch with_predictions(Batch b, const std::vector<double>& p) {
    b.predictions.assign(p.begin(), p.end());
    return b;
}

// folded_gradient() at activation(z) against central differences of
// value(activation(z)) in each logit z: what the folded pass claims to be.
template <class Backend, class Loss>
void check_folded_gradient_by_differences(const Backend& backend, const Loss& loss,
                                          const Batch& shape, const std::vector<double>& logits,
                                          const Activation& activation) {
    const Batch at = with_predictions(shape, activation(logits, shape.width));
    const std::vector<float> analytic = folded_gradient_of(backend, loss, at);
    const double h = 1e-3;
    auto value_at = [&](const std::vector<double>& z) {
        const Batch b = with_predictions(shape, activation(z, shape.width));
        return double(loss.value(backend, b.view()));
    };
    for (std::size_t i = 0; i < logits.size(); ++i) {
        CAPTURE(i);
        std::vector<double> plus = logits, minus = logits;
        plus[i] += h;
        minus[i] -= h;
        const double numeric = (value_at(plus) - value_at(minus)) / (2.0 * h);
        CHECK(numeric == near(analytic[i]));
    }
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no std::invalid_argument thrown)";
}

bool all_finite(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Two rows of three classes; the true classes are 0 and 2.
const Batch cce_one_hot{{0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f}, {1, 0, 0, 0, 0, 1}, 2, 3, 3};
const Batch cce_sparse{{0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f}, {0, 2}, 2, 3, 1};

// Two rows of two outputs, one soft target (0.25) to exercise both log terms.
const Batch bce_batch{{0.8f, 0.3f, 0.4f, 0.9f}, {1.0f, 0.0f, 0.25f, 1.0f}, 2, 2, 2};

// Every loss meets the concept fit() and evaluate() check, on every backend.
template <class Backend>
constexpr bool all_losses = ctnn::Loss<CategoricalCrossEntropy, Backend> &&
                            ctnn::Loss<BinaryCrossEntropy, Backend> &&
                            ctnn::Loss<MeanSquaredError, Backend>;
static_assert(all_losses<ctnn::backend::Cpu> && all_losses<ctnn::testing::Portable>);

const Batch mse_batch{{1.5f, -0.5f, 2.0f, 0.0f, 1.0f, 3.0f},
                      {1.0f, 0.0f, 2.0f, 1.0f, 0.0f, 1.0f},
                      3,
                      2,
                      2};

TEST_SUITE("losses") {

// ---------------------------------------------------------------------------
// Categorical cross-entropy

TEST_CASE_TEMPLATE("categorical cross-entropy: reference value and gradient, one-hot and sparse",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    // mean(-log 0.7, -log 0.6) = (0.356674944 + 0.510825624) / 2 = 0.433750284
    CHECK(loss.value(backend, cce_one_hot.view()) == doctest::Approx(0.433750284).epsilon(1e-6));
    CHECK(loss.value(backend, cce_sparse.view()) == doctest::Approx(0.433750284).epsilon(1e-6));

    // d/dp of -log(p_true) / rows = -1 / (2 p_true) on the true class, 0 elsewhere:
    // -1/1.4 = -0.714285714, -1/1.2 = -0.833333333.
    const std::vector<double> expected{-0.714285714, 0, 0, 0, 0, -0.833333333};
    const std::vector<float> one_hot = gradient_of(backend, loss, cce_one_hot);
    const std::vector<float> sparse = gradient_of(backend, loss, cce_sparse);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(one_hot[i] == doctest::Approx(expected[i]).epsilon(1e-6));
        CHECK(sparse[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("categorical cross-entropy: probability targets weight every class", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    const Batch soft{{0.5f, 0.25f, 0.25f}, {0.25f, 0.75f, 0.0f}, 1, 3, 3};
    // -(0.25 log 0.5 + 0.75 log 0.25) = 0.25 * 0.693147181 + 0.75 * 1.386294361 = 1.213007566
    CHECK(loss.value(backend, soft.view()) == doctest::Approx(1.213007566).epsilon(1e-6));
    // -t / p: -0.25/0.5 = -0.5, -0.75/0.25 = -3, and 0 where t = 0.
    const std::vector<float> g = gradient_of(backend, loss, soft);
    CHECK(g[0] == doctest::Approx(-0.5).epsilon(1e-6));
    CHECK(g[1] == doctest::Approx(-3.0).epsilon(1e-6));
    CHECK(g[2] == 0.0f);
}

TEST_CASE_TEMPLATE("categorical cross-entropy: gradient matches finite differences of value",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    SUBCASE("one-hot") { check_gradient_by_differences(backend, loss, cce_one_hot); }
    SUBCASE("sparse") { check_gradient_by_differences(backend, loss, cce_sparse); }
    SUBCASE("probability targets, three rows") {
        const Batch soft{{0.2f, 0.5f, 0.3f, 0.6f, 0.15f, 0.25f, 0.05f, 0.05f, 0.9f},
                         {0.1f, 0.6f, 0.3f, 1.0f, 0.0f, 0.0f, 0.0f, 0.5f, 0.5f},
                         3,
                         3,
                         3};
        check_gradient_by_differences(backend, loss, soft);
    }
}

TEST_CASE_TEMPLATE("categorical cross-entropy: folded gradient is d value(softmax(z)) / dz",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    const std::vector<double> logits{1.0, -0.5, 0.25, -1.5, 0.5, 2.0};
    SUBCASE("one-hot") {
        check_folded_gradient_by_differences(backend, loss, cce_one_hot, logits, softmax_rows);
    }
    SUBCASE("sparse") {
        check_folded_gradient_by_differences(backend, loss, cce_sparse, logits, softmax_rows);
    }
    SUBCASE("probability targets") {
        const Batch soft{{0, 0, 0, 0, 0, 0}, {0.25f, 0.75f, 0.0f, 0.5f, 0.25f, 0.25f}, 2, 3, 3};
        check_folded_gradient_by_differences(backend, loss, soft, logits, softmax_rows);
    }
    SUBCASE("reference value: (p - t) / rows") {
        // Row 0, class 0: (0.7 - 1, 0.2, 0.1) / 2; row 1, class 2: (0.1, 0.3, 0.6 - 1) / 2.
        const std::vector<double> expected{-0.15, 0.1, 0.05, 0.05, 0.15, -0.2};
        const std::vector<float> one_hot = folded_gradient_of(backend, loss, cce_one_hot);
        const std::vector<float> sparse = folded_gradient_of(backend, loss, cce_sparse);
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(i);
            CHECK(one_hot[i] == doctest::Approx(expected[i]).epsilon(1e-6));
            CHECK(sparse[i] == doctest::Approx(expected[i]).epsilon(1e-6));
        }
    }
}

TEST_CASE_TEMPLATE("categorical cross-entropy: Keras clipping keeps log(0) finite", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    SUBCASE("prediction 0 for the true class") {
        const Batch zero_one_hot{{0.0f, 0.5f, 0.5f}, {1, 0, 0}, 1, 3, 3};
        const Batch zero_sparse{{0.0f, 0.5f, 0.5f}, {0}, 1, 3, 1};
        for (const Batch* b : {&zero_one_hot, &zero_sparse}) {
            const float v = loss.value(backend, b->view());
            CHECK(std::isfinite(v));
            // p clipped to eps = 1e-7: -log(1e-7) = 16.118095651
            CHECK(v == doctest::Approx(16.118095651).epsilon(1e-6));
            // Clipping is flat below eps, so no gradient flows through it.
            const std::vector<float> g = gradient_of(backend, loss, *b);
            CHECK(all_finite(g));
            CHECK(g[0] == 0.0f);
        }
    }
    SUBCASE("prediction 1 for the true class costs almost nothing") {
        const Batch sure{{1.0f, 0.0f, 0.0f}, {0}, 1, 3, 1};
        const float v = loss.value(backend, sure.view());
        // -log(1 - eps), about 1e-7 (float rounds 1 - 1e-7 to 1 - 1.19e-7).
        CHECK(v >= 0.0f);
        CHECK(v < 2e-7f);
    }
}

TEST_CASE("categorical cross-entropy: folds into Softmax only") {
    static_assert(ctnn::FoldsInto<CategoricalCrossEntropy, ctnn::Softmax>);
    static_assert(!ctnn::FoldsInto<CategoricalCrossEntropy, ctnn::Sigmoid>);
    CHECK(CategoricalCrossEntropy::folds_into<ctnn::Softmax>);
    CHECK_FALSE(CategoricalCrossEntropy::folds_into<ctnn::Sigmoid>);
}

TEST_CASE_TEMPLATE("categorical cross-entropy: rejects a target width that fits neither layout",
                   Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    // Five classes, four targets per row: neither one-hot (5) nor an index (1).
    const Batch wrong{std::vector<float>(10, 0.2f), std::vector<float>(8, 0.25f), 2, 5, 4};
    std::vector<float> out(10);
    CHECK_THROWS_AS((void)loss.value(backend, wrong.view()), std::invalid_argument);
    CHECK_THROWS_AS(loss.gradient(backend, wrong.view(), out.data()), std::invalid_argument);
    CHECK_THROWS_AS(loss.folded_gradient(backend, wrong.view(), out.data()), std::invalid_argument);
    const std::string message = message_of([&] { (void)loss.value(backend, wrong.view()); });
    CAPTURE(message);
    CHECK(message.find('5') != std::string::npos);
    CHECK(message.find('4') != std::string::npos);
}

TEST_CASE_TEMPLATE("categorical cross-entropy: rejects a class index outside the classes", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const CategoricalCrossEntropy loss;
    std::vector<float> out(6);
    for (float index : {3.0f, -1.0f, std::numeric_limits<float>::quiet_NaN()}) {
        CAPTURE(index);
        const Batch bad{{0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f}, {0.0f, index}, 2, 3, 1};
        CHECK_THROWS_AS((void)loss.value(backend, bad.view()), std::invalid_argument);
        CHECK_THROWS_AS(loss.gradient(backend, bad.view(), out.data()), std::invalid_argument);
        CHECK_THROWS_AS(loss.folded_gradient(backend, bad.view(), out.data()),
                        std::invalid_argument);
    }
    const Batch bad{{0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f}, {0.0f, 3.0f}, 2, 3, 1};
    const std::string message = message_of([&] { (void)loss.value(backend, bad.view()); });
    CAPTURE(message);
    CHECK(message.find('3') != std::string::npos);
}

// ---------------------------------------------------------------------------
// Binary cross-entropy

TEST_CASE_TEMPLATE("binary cross-entropy: reference value and gradient", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const BinaryCrossEntropy loss;
    // Terms: -log 0.8 = 0.223143551, -log 0.7 = 0.356674944,
    // -(0.25 log 0.4 + 0.75 log 0.6) = 0.229072683 + 0.383119218 = 0.612191901,
    // -log 0.9 = 0.105360516. Mean over 4 values: 1.297370912 / 4 = 0.324342728.
    CHECK(loss.value(backend, bce_batch.view()) == doctest::Approx(0.324342728).epsilon(1e-6));
    // (p - t) / (p (1 - p)) / 4: -0.2/0.16/4 = -0.3125, 0.3/0.21/4 = 0.357142857,
    // 0.15/0.24/4 = 0.15625, -0.1/0.09/4 = -0.277777778.
    const std::vector<double> expected{-0.3125, 0.357142857, 0.15625, -0.277777778};
    const std::vector<float> g = gradient_of(backend, loss, bce_batch);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(g[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("binary cross-entropy: gradient matches finite differences of value", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const BinaryCrossEntropy loss;
    check_gradient_by_differences(backend, loss, bce_batch);
    const Batch three_rows{{0.1f, 0.55f, 0.95f}, {0.0f, 1.0f, 0.7f}, 3, 1, 1};
    check_gradient_by_differences(backend, loss, three_rows);
}

TEST_CASE_TEMPLATE("binary cross-entropy: folded gradient is d value(sigmoid(z)) / dz", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const BinaryCrossEntropy loss;
    check_folded_gradient_by_differences(backend, loss, bce_batch, {1.5, -0.75, 0.25, 2.0},
                                         sigmoid);
    // (p - t) / 4: -0.05, 0.075, 0.0375, -0.025
    const std::vector<double> expected{-0.05, 0.075, 0.0375, -0.025};
    const std::vector<float> g = folded_gradient_of(backend, loss, bce_batch);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(g[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("binary cross-entropy: Keras clipping keeps log(0) finite", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const BinaryCrossEntropy loss;
    // p = 0 with t = 1 clips to eps: -log(1e-7) = 16.118095651.
    // p = 1 with t = 0 clips to 1 - eps, which float rounds to 1 - 2^-23, so the
    // term is -log(2^-23) = 23 ln 2 = 15.942385153 (Keras in float32 does the same).
    // Mean: (16.118095651 + 15.942385153) / 2 = 16.030240402.
    const Batch saturated{{0.0f, 1.0f}, {1.0f, 0.0f}, 1, 2, 2};
    const float v = loss.value(backend, saturated.view());
    CHECK(std::isfinite(v));
    CHECK(v == doctest::Approx(16.030240402).epsilon(1e-6));
    const std::vector<float> g = gradient_of(backend, loss, saturated);
    CHECK(g[0] == 0.0f);
    CHECK(g[1] == 0.0f);
}

TEST_CASE("binary cross-entropy: folds into Sigmoid only") {
    static_assert(ctnn::FoldsInto<BinaryCrossEntropy, ctnn::Sigmoid>);
    static_assert(!ctnn::FoldsInto<BinaryCrossEntropy, ctnn::Softmax>);
    CHECK(BinaryCrossEntropy::folds_into<ctnn::Sigmoid>);
    CHECK_FALSE(BinaryCrossEntropy::folds_into<ctnn::Softmax>);
}

TEST_CASE_TEMPLATE("binary cross-entropy: needs one target per output", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const BinaryCrossEntropy loss;
    // A class index is not a valid BCE target for a 3-wide output.
    const Batch wrong{std::vector<float>(6, 0.5f), {0.0f, 1.0f}, 2, 3, 1};
    std::vector<float> out(6);
    CHECK_THROWS_AS((void)loss.value(backend, wrong.view()), std::invalid_argument);
    CHECK_THROWS_AS(loss.gradient(backend, wrong.view(), out.data()), std::invalid_argument);
    CHECK_THROWS_AS(loss.folded_gradient(backend, wrong.view(), out.data()), std::invalid_argument);
    const std::string message = message_of([&] { (void)loss.value(backend, wrong.view()); });
    CAPTURE(message);
    CHECK(message.find("binary cross-entropy") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Mean squared error

TEST_CASE_TEMPLATE("mean squared error: reference value and gradient", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    const MeanSquaredError loss;
    // p - t = (0.5, -0.5, 0, -1, 1, 2); squares sum to 6.5; 6.5 / 6 = 1.083333333
    CHECK(loss.value(backend, mse_batch.view()) == doctest::Approx(1.083333333).epsilon(1e-6));
    // 2 (p - t) / 6 = (p - t) / 3
    const std::vector<double> expected{1.0 / 6, -1.0 / 6, 0.0, -1.0 / 3, 1.0 / 3, 2.0 / 3};
    const std::vector<float> g = gradient_of(backend, loss, mse_batch);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(g[i] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("mean squared error: gradient matches finite differences of value", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    check_gradient_by_differences(backend, MeanSquaredError{}, mse_batch);
}

// It declares no folds_into at all; the concept reads that as "never".
TEST_CASE("mean squared error: folds into nothing") {
    static_assert(!ctnn::FoldsInto<MeanSquaredError, ctnn::Softmax>);
    static_assert(!ctnn::FoldsInto<MeanSquaredError, ctnn::Sigmoid>);
    CHECK_FALSE(ctnn::FoldsInto<MeanSquaredError, ctnn::Softmax>);
    CHECK_FALSE(ctnn::FoldsInto<MeanSquaredError, ctnn::Sigmoid>);
}

TEST_CASE_TEMPLATE("mean squared error: needs one target per output", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    const MeanSquaredError loss;
    const Batch wrong{std::vector<float>(6, 0.5f), std::vector<float>(4, 0.0f), 2, 3, 2};
    std::vector<float> out(6);
    CHECK_THROWS_AS((void)loss.value(backend, wrong.view()), std::invalid_argument);
    CHECK_THROWS_AS(loss.gradient(backend, wrong.view(), out.data()), std::invalid_argument);
    const std::string message = message_of([&] { (void)loss.value(backend, wrong.view()); });
    CAPTURE(message);
    CHECK(message.find("mean squared error") != std::string::npos);
}

} // TEST_SUITE

} // namespace losses_losses_test
