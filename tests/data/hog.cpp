#include <ctnn/data/hog.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include "hog_reference.hpp"

namespace data_hog_test {

using ctnn::data::BlockNorm;
using ctnn::data::HogOptions;

double max_difference(const std::vector<float>& features, const hog_reference::Case& c) {
    double worst = 0.0;
    for (std::size_t i = 0; i < c.size; ++i)
        worst = std::max(worst, std::abs(double(features[i]) - c.expected[i]));
    return worst;
}

TEST_CASE("hog matches scikit-image 0.19 to 1e-6") {
    for (const hog_reference::Case& c : hog_reference::cases) {
        CAPTURE(c.image_name);
        CAPTURE(c.norm_name);
        CAPTURE(c.options.orientations);
        CAPTURE(c.options.pixels_per_cell.rows);
        CAPTURE(c.options.pixels_per_cell.cols);
        CAPTURE(c.options.cells_per_block.rows);
        CAPTURE(c.options.cells_per_block.cols);
        std::span<const float> image(c.image, c.height * c.width);
        std::vector<float> features = ctnn::data::hog(image, c.height, c.width, c.options);
        REQUIRE(features.size() == c.size);
        CHECK(ctnn::data::hog_size(c.height, c.width, c.options) == c.size);
        CHECK(max_difference(features, c) <= 1e-6);
    }
}

TEST_CASE("seed 001's setting gives 392 features for a 28x28 digit") {
    HogOptions options{.orientations = 8, .pixels_per_cell = {4, 4}, .cells_per_block = {1, 1},
                       .block_norm = BlockNorm::l1};
    CHECK(ctnn::data::hog_size(28, 28, options) == 392);
    options.pixels_per_cell = {7, 7};
    CHECK(ctnn::data::hog_size(28, 28, options) == 128);
}

TEST_CASE("the batch form gives each image's descriptor and keeps the targets") {
    // Every 28x28 reference image, several times over, so that the work spreads
    // over threads.
    std::vector<const hog_reference::Case*> digits;
    for (const hog_reference::Case& c : hog_reference::cases)
        if (c.height == 28 && c.width == 28 && c.options.pixels_per_cell.rows == 4) digits.push_back(&c);
    REQUIRE(digits.size() == 2);
    const std::size_t n = 100;
    ctnn::data::Dataset images{xt::xtensor<float, 2>::from_shape({n, 784}),
                               xt::xtensor<float, 2>::from_shape({n, 1})};
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(digits[i % 2]->image, 784, images.inputs.data() + i * 784);
        images.targets(i, 0) = float(i);
    }
    const HogOptions& options = digits[0]->options;
    ctnn::data::Dataset features = ctnn::data::hog(images, 28, 28, options);
    REQUIRE(features.size() == n);
    REQUIRE(features.input_width() == 392);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        std::vector<float> row(features.inputs.data() + i * 392, features.inputs.data() + (i + 1) * 392);
        CHECK(max_difference(row, *digits[i % 2]) <= 1e-6);
        CHECK(features.targets(i, 0) == float(i));
    }
}

TEST_CASE("hog rejects images and options it cannot use") {
    std::vector<float> image(28 * 28, 0.0f);
    CHECK_THROWS_WITH_AS(ctnn::data::hog(image, 28, 27), "ctnn: hog: got 784 pixels for a 28x27 image",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(ctnn::data::hog(image, 28, 28, {.orientations = 0}),
                         "ctnn: hog: orientations, pixels_per_cell and cells_per_block must be positive",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        ctnn::data::hog(image, 28, 28, {.pixels_per_cell = {7, 7}, .cells_per_block = {5, 5}}),
        "ctnn: hog: a 28x28 image holds 4x4 cells of 7x7 pixels, fewer than one block of 5x5 cells",
        std::invalid_argument);
    ctnn::data::Dataset wrong{xt::xtensor<float, 2>::from_shape({2, 10}),
                              xt::xtensor<float, 2>::from_shape({2, 1})};
    CHECK_THROWS_AS(ctnn::data::hog(wrong, 28, 28), std::invalid_argument);
}

} // namespace data_hog_test
