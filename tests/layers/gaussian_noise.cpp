#include <algorithm>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnn/layers/gaussian_noise.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_gaussian_noise_test {

template <class Backend, std::size_t Size>
using NoiseStack =
    ctnn::testing::LayerStack<Backend, ctnn::Shape<Size>, ctnn::Fusion::fused, ctnn::GaussianNoise>;

TEST_CASE_TEMPLATE("GaussianNoise: identity at inference", Backend, CTNN_TEST_BACKENDS) {
    NoiseStack<Backend, 1000> noise(ctnn::GaussianNoise{0.1f});
    const std::vector<float> x(1000, 1.0f);
    // In place on host memory; elsewhere the same values.
    const auto y = noise.forward(x, 1);
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
    else CHECK(std::equal(x.begin(), x.end(), y.begin()));
}

TEST_CASE_TEMPLATE("GaussianNoise: adds zero-mean noise of the given standard deviation in training", Backend,
                   CTNN_TEST_BACKENDS) {
    NoiseStack<Backend, 1000> noise(ctnn::GaussianNoise{0.5f});
    const std::vector<float> x(20000, 3.0f);
    const auto y = noise.forward(x, 20, {ctnn::Mode::training, 4, 0, 0});
    double sum = 0, sum_sq = 0;
    for (float v : y) {
        sum += v - 3.0;
        sum_sq += (v - 3.0) * (v - 3.0);
    }
    CHECK(sum / 20000 == doctest::Approx(0.0).scale(0.5).epsilon(0.02));
    CHECK(std::sqrt(sum_sq / 20000) == doctest::Approx(0.5).epsilon(0.02));
}

TEST_CASE_TEMPLATE("GaussianNoise: gradients pass through", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<6>>({}, ctnn::GaussianNoise{0.3f});
}

} // namespace layers_gaussian_noise_test
