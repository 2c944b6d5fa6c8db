// The CPU backend's opt-in bf16 products (backend/cpu/bf16_gemm.hpp): the
// kernels against exact sums of the rounded operands, and networks on
// Cpu{Precision::bf16} against the same networks in float. On a CPU with
// neither AMX nor AVX512-BF16 each case says so and checks only the refusal.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <ctnn/ctnn.hpp>

namespace backend_bf16_test {

namespace bf16 = ctnn::backend::cpu::bf16;
using ctnn::Shape;

float rounded(float value) { return bf16::bf16_to_float(bf16::round_to_bf16(value)); }

bool skip_without_bf16() {
    if (bf16::supported()) {
        const std::string kernel = bf16::kernel_name(bf16::kernel());
        MESSAGE("bf16 kernel: ", kernel);
        return false;
    }
    MESSAGE("this CPU has neither AMX nor AVX512-BF16: the bf16 products are not run");
    CHECK_THROWS_AS(ctnn::backend::Cpu{ctnn::backend::Precision::bf16}, std::runtime_error);
    return true;
}

std::vector<float> normal_values(std::size_t n, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    std::vector<float> values(n);
    for (float& v : values) v = rng.normal();
    return values;
}

TEST_CASE("round_to_bf16 rounds to nearest even and keeps infinities and NaNs") {
    CHECK(bf16::round_to_bf16(1.0f) == 0x3f80);
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to the even one, 1.
    CHECK(bf16::round_to_bf16(1.00390625f) == 0x3f80);
    // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to the even one.
    CHECK(bf16::round_to_bf16(1.01171875f) == 0x3f82);
    CHECK(bf16::round_to_bf16(1.005f) == 0x3f81);
    CHECK(bf16::round_to_bf16(-2.0f) == 0xc000);
    CHECK(bf16::bf16_to_float(bf16::round_to_bf16(std::numeric_limits<float>::infinity())) ==
          std::numeric_limits<float>::infinity());
    CHECK(std::isnan(bf16::bf16_to_float(bf16::round_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST_CASE("bf16 gemm: every transpose, sizes off the tiles, alpha and beta, against exact sums of the rounded operands") {
    if (skip_without_bf16()) return;
    std::uint64_t seed = 1;
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (const auto& size : {std::array{1, 1, 1}, {17, 33, 31}, {64, 64, 64}, {5, 100, 300}, {100, 7, 65},
                                     {33, 47, 1}, {48, 16, 33}})
                for (float beta : {0.0f, 0.5f}) {
                    const int m = size[0], n = size[1], k = size[2];
                    const std::size_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                    const std::vector<float> a = normal_values((ta ? k : m) * lda, seed++);
                    const std::vector<float> b = normal_values((tb ? n : k) * ldb, seed++);
                    std::vector<float> c = normal_values(m * ldc, seed++);
                    std::vector<double> expected(m * ldc);
                    const float alpha = 0.75f;
                    for (int i = 0; i < m; ++i)
                        for (int j = 0; j < n; ++j) {
                            double sum = 0;
                            for (int p = 0; p < k; ++p)
                                sum += double(rounded(ta ? a[p * lda + i] : a[i * lda + p])) *
                                       rounded(tb ? b[j * ldb + p] : b[p * ldb + j]);
                            expected[i * ldc + j] = alpha * sum + beta * c[i * ldc + j];
                        }
                    // beta 0 must not read C: NaNs there stay out of the result.
                    if (beta == 0.0f)
                        for (float& v : c) v = std::numeric_limits<float>::quiet_NaN();
                    bf16::gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
                    double worst = 0;
                    for (int i = 0; i < m; ++i)
                        for (int j = 0; j < n; ++j)
                            worst = std::max(worst, std::abs(c[i * ldc + j] - expected[i * ldc + j]) /
                                                        (1.0 + std::abs(expected[i * ldc + j])));
                    INFO("transposed ", ta, " ", tb, ", m ", m, " n ", n, " k ", k, ", beta ", beta);
                    CHECK(worst < 1e-5);  // float accumulation of exact bf16 products
                }
}

TEST_CASE("bf16 gemm: run inside a thread team (the convolution's chunks), each thread's own product") {
    if (skip_without_bf16()) return;
    constexpr std::size_t m = 32, n = 200, k = 72;
    const std::vector<float> a = normal_values(m * k, 1), b = normal_values(k * n, 2);
    std::vector<float> alone(m * n), teamed(2 * m * n);
    bf16::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, alone.data(), n);
    ctnn::backend::cpu::parallel_threads([&](std::size_t thread, std::size_t threads) {
        for (std::size_t copy = thread; copy < 2; copy += threads)
            bf16::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, teamed.data() + copy * m * n, n);
    });
    for (std::size_t copy = 0; copy < 2; ++copy)
        CHECK(std::equal(alone.begin(), alone.end(), teamed.begin() + copy * m * n));
}

using SmallCnn = ctnn::Sequential<ctnn::Input<3, 12, 12>, ctnn::Conv2D<16, 3>, ctnn::ReLU, ctnn::MaxPool2D<2>,
                                  ctnn::Flatten, ctnn::Dense<32>, ctnn::Tanh, ctnn::Dense<10>>;

double relative_error(std::span<const float> got, std::span<const float> want) {
    double difference = 0, norm = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        difference += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
        norm += double(want[i]) * want[i];
    }
    return std::sqrt(difference / norm);
}

TEST_CASE("a network on Cpu{Precision::bf16}: outputs and gradients within bf16's rounding of the float network's") {
    if (skip_without_bf16()) return;
    constexpr std::size_t batch = 24;
    SmallCnn exact{ctnn::Seed{3}};
    SmallCnn mixed{ctnn::Seed{3}, ctnn::backend::Cpu{ctnn::backend::Precision::bf16}};
    CHECK(mixed.backend().precision() == ctnn::backend::Precision::bf16);
    const std::vector<float> x = normal_values(batch * SmallCnn::input_shape::size, 7);
    const std::vector<float> dy = normal_values(batch * 10, 8);
    const ctnn::Context training{ctnn::Mode::training};
    std::vector<std::vector<float>> outputs, gradients;
    for (auto* net : {&exact, &mixed}) {
        const auto y = net->forward(x, batch, training);
        outputs.emplace_back(y.begin(), y.end());
        std::copy(dy.begin(), dy.end(), net->output_gradient());
        net->backward(training, batch);
        gradients.push_back(net->host_gradients());
    }
    const double output_error = relative_error(outputs[1], outputs[0]);
    const double gradient_error = relative_error(gradients[1], gradients[0]);
    INFO("relative error of the outputs ", output_error, ", of the gradients ", gradient_error);
    // bf16 keeps 8 bits of mantissa, 0.4% per rounding at most; the
    // gradients pass through twice as many rounded products as the outputs
    // (measured on an AMX Xeon: 0.4% and 1.7%). A wrong layout or transpose
    // gives errors near 100%.
    CHECK(output_error < 2e-2);
    CHECK(gradient_error < 5e-2);
    // ...and the products did run in bf16.
    CHECK(output_error > 1e-5);
}

TEST_CASE("a network on Cpu{Precision::bf16} learns a ten-class task as the float one does") {
    if (skip_without_bf16()) return;
    // Ten classes, each a pattern of its own plus noise.
    constexpr std::size_t size = SmallCnn::input_shape::size;
    const std::vector<float> patterns = normal_values(10 * size, 11);
    ctnn::Rng rng(12);
    auto samples = [&](std::size_t n) {
        xt::xtensor<float, 2> inputs({n, size}), labels({n, 1});
        for (std::size_t i = 0; i < n; ++i) {
            labels(i, 0) = float(i % 10);
            for (std::size_t j = 0; j < size; ++j) inputs(i, j) = patterns[(i % 10) * size + j] + 1.5f * rng.normal();
        }
        return ctnn::data::Dataset{inputs, labels};
    };
    const ctnn::data::Dataset training = samples(400), testing = samples(200);
    using Net = ctnn::Sequential<ctnn::Input<3, 12, 12>, ctnn::Conv2D<16, 3>, ctnn::ReLU, ctnn::MaxPool2D<2>,
                                 ctnn::Flatten, ctnn::Dense<32>, ctnn::Tanh, ctnn::Dense<10>, ctnn::Softmax>;
    Net net{ctnn::Seed{5}, ctnn::backend::Cpu{ctnn::backend::Precision::bf16}};
    ctnn::fit(net, ctnn::Adam{3e-3f}, ctnn::CategoricalCrossEntropy{}, training,
              {.epochs = 6, .batch_size = 32, .seed = 1, .verbosity = ctnn::Verbosity::silent});
    const float accuracy = ctnn::evaluate(net, testing).accuracy;
    INFO("test accuracy in bf16 ", accuracy);
    CHECK(accuracy > 0.9f);
}

} // namespace backend_bf16_test
