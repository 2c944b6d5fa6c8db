// The number images of seeds 000/002 (data/number_images.hpp): shapes, values,
// where each digit comes from and where it lands, how often numbers have one,
// two or three digits, and that a seed gives the same images again.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/number_images.hpp>

namespace data_number_images_test {

using ctnn::data::NumberImages;

// Ten "digits" of each label: a bar of ink 4 + label columns wide, 10 rows
// tall, at a place that depends on the copy.
ctnn::data::Dataset bar_digits() {
    ctnn::data::Dataset digits{xt::zeros<float>({std::size_t{100}, std::size_t{784}}),
                               xt::zeros<float>({std::size_t{100}, std::size_t{1}})};
    for (std::size_t row = 0; row < 100; ++row) {
        const std::size_t label = row % 10, left = 6 + row / 10 % 4;
        digits.targets(row, 0) = float(label);
        for (std::size_t r = 9; r < 19; ++r)
            for (std::size_t c = left; c < left + 4 + label; ++c) digits.inputs(row, r * 28 + c) = 1.0f;
    }
    return digits;
}

// Checks one drawn image against what the generator says it placed.
void check_image(const NumberImages& images, const ctnn::data::NumberImage& drawn, const float* image) {
    const std::string text = std::to_string(drawn.number);
    REQUIRE(drawn.digits.size() == text.size());
    std::size_t strip = 0;
    std::vector<bool> placed(NumberImages::width, false);
    for (std::size_t d = 0; d < text.size(); ++d) {
        const ctnn::data::DigitPlacement& digit = drawn.digits[d];
        CHECK(digit.digit == text[d] - '0');
        // From an image of the right label.
        CHECK(images.digits().targets(digit.source, 0) == float(digit.digit));
        const std::size_t width = digit.end - digit.begin;
        CHECK(((width >= 6 && width <= 28)));
        if (d > 0) CHECK(digit.begin == drawn.digits[d - 1].end);  // side by side
        for (std::size_t c = digit.begin; c < digit.end; ++c) placed[c] = true;
        strip += width;
    }
    // Centred, the odd column on the left.
    const std::size_t left = drawn.digits.front().begin, right = NumberImages::width - drawn.digits.back().end;
    CHECK(left + strip + right == NumberImages::width);
    CHECK(right == (NumberImages::width - strip) / 2);
    CHECK(left - right == strip % 2);
    // Values in [0, 1] at byte levels (the original's uint8 images), ink only
    // where a digit was placed.
    std::size_t out_of_range = 0, between_levels = 0, stray_ink = 0;
    for (std::size_t i = 0; i < NumberImages::size; ++i) {
        out_of_range += !(image[i] >= 0.0f && image[i] <= 1.0f);
        between_levels += std::abs(std::round(image[i] * 255.0f) - image[i] * 255.0f) > 1e-3f;
        stray_ink += !placed[i % NumberImages::width] && image[i] != 0.0f;
    }
    CHECK(out_of_range == 0);
    CHECK(between_levels == 0);
    CHECK(stray_ink == 0);
}

TEST_CASE("NumberImages: reading targets spell the number right-aligned, blanks before it") {
    float targets[3];
    NumberImages::reading_targets(7, targets);
    CHECK((targets[0] == 10 && targets[1] == 10 && targets[2] == 7));
    NumberImages::reading_targets(42, targets);
    CHECK((targets[0] == 10 && targets[1] == 4 && targets[2] == 2));
    NumberImages::reading_targets(0, targets);
    CHECK((targets[0] == 10 && targets[1] == 10 && targets[2] == 0));
    for (int number = 0; number < 1000; ++number) {
        NumberImages::reading_targets(number, targets);
        const std::size_t symbols[3] = {std::size_t(targets[0]), std::size_t(targets[1]), std::size_t(targets[2])};
        CHECK(NumberImages::read_symbols(symbols) == number);
    }
    const std::size_t gap[3] = {4, 10, 2}, none[3] = {10, 10, 10};
    CHECK(NumberImages::read_symbols(gap) == -1);
    CHECK(NumberImages::read_symbols(none) == -1);
}

TEST_CASE("NumberImages: each digit from an image of its label, cropped, side by side and centred") {
    const ctnn::data::Dataset digits = bar_digits();
    const NumberImages images(digits);
    std::vector<float> image(NumberImages::size);
    for (std::uint64_t i = 0; i < 300; ++i) check_image(images, images.draw(11, 0, i, image.data()), image.data());
    // Numbers of every length, drawn directly.
    ctnn::Rng rng(3);
    for (int number : {0, 5, 10, 99, 100, 254, 888}) check_image(images, images.draw(rng, number, image.data()), image.data());
}

TEST_CASE("NumberImages: the crop keeps 0-3 blank columns on the left and cuts or pads 1-2 on the right") {
    // An upright bar of ink in columns 10..17 (F = 10, L = 17), no augmentation.
    std::vector<float> bar(784, 0.0f);
    for (std::size_t r = 5; r < 20; ++r)
        for (std::size_t c = 10; c < 18; ++c) bar[r * 28 + c] = 1.0f;
    std::vector<int> lefts(4, 0), rights(4, 0);
    ctnn::Rng rng(8);
    for (int i = 0; i < 400; ++i) {
        const auto [begin, end] = NumberImages::crop(bar.data(), rng);
        REQUIRE(((begin >= 7 && begin <= 10)));
        REQUIRE(((end >= 16 && end <= 19)));
        ++lefts[10 - begin];
        ++rights[end - 16];  // [F - 1 - c1, L + c2): c2 = -1 cuts two inked columns, 2 keeps one blank
    }
    for (int k = 0; k < 4; ++k) {
        CHECK(lefts[k] > 60);
        CHECK(rights[k] > 60);
    }
    // No ink, or ink too narrow to crop to 6 columns: the whole digit.
    std::vector<float> empty(784, 0.0f), thin(784, 0.0f);
    thin[14 * 28 + 14] = 1.0f;
    for (int i = 0; i < 20; ++i) {
        CHECK((NumberImages::crop(empty.data(), rng) == std::pair<std::size_t, std::size_t>{0, 28}));
        CHECK((NumberImages::crop(thin.data(), rng) == std::pair<std::size_t, std::size_t>{0, 28}));
    }
}

TEST_CASE("NumberImages: numbers are uniform on 0..254, so 3.9/35.3/60.8% have 1/2/3 digits") {
    const ctnn::data::Dataset digits = bar_digits();
    const NumberImages images(digits);
    std::vector<float> image(NumberImages::size);
    constexpr std::size_t draws = 20000;
    std::vector<std::size_t> by_number(256, 0), by_length(4, 0);
    for (std::uint64_t i = 0; i < draws; ++i) {
        const int number = images.draw(2, 0, i, image.data()).number;
        REQUIRE(((number >= 0 && number <= 254)));
        ++by_number[std::size_t(number)];
        ++by_length[std::to_string(number).size()];
    }
    CHECK(by_number[255] == 0);
    for (std::size_t n = 0; n < 255; ++n) CHECK(by_number[n] > 0);
    // Within 4 standard deviations of the binomial counts.
    const double expected[4] = {0, 10.0 / 255, 90.0 / 255, 155.0 / 255};
    for (std::size_t length = 1; length <= 3; ++length) {
        const double p = expected[length], sd = std::sqrt(draws * p * (1 - p));
        CHECK(std::abs(double(by_length[length]) - draws * p) < 4 * sd);
    }
}

TEST_CASE("NumberImages: a seed, epoch and index give the same image again; another does not") {
    const ctnn::data::Dataset digits = bar_digits();
    const NumberImages images(digits);
    std::vector<float> a(NumberImages::size), b(NumberImages::size), c(NumberImages::size);
    for (std::uint64_t i = 0; i < 20; ++i) {
        CHECK(images.draw(5, 3, i, a.data()).number == images.draw(5, 3, i, b.data()).number);
        CHECK((a == b));
    }
    std::size_t differing = 0;
    for (std::uint64_t i = 0; i < 20; ++i) {
        images.draw(5, 3, i, a.data());
        images.draw(5, 4, i, b.data());
        images.draw(6, 3, i, c.data());
        differing += (a != b) + (a != c);
    }
    CHECK(differing == 40);
    // A test set is those images in order.
    const ctnn::data::Dataset set = ctnn::data::number_reading_set(images, 5, 5, 3);
    images.draw(5, 3, 4, a.data());
    for (std::size_t j = 0; j < NumberImages::size; ++j) CHECK(set.inputs(4, j) == a[j]);
}

TEST_CASE("NumberImages: labels outside 0..9 or a missing digit are refused by name") {
    ctnn::data::Dataset digits = bar_digits();
    digits.targets(3, 0) = 12.0f;
    CHECK_THROWS_WITH_AS(NumberImages{digits}, doctest::Contains("digit row 3 has label 12"), std::invalid_argument);
    ctnn::data::Dataset no_sevens = bar_digits();
    for (std::size_t row = 7; row < 100; row += 10) no_sevens.targets(row, 0) = 1.0f;
    CHECK_THROWS_WITH_AS(NumberImages{no_sevens}, doctest::Contains("no image of the digit 7"), std::invalid_argument);
}

TEST_CASE("NumberImages: from real MNIST, when CTNN_MNIST_DIR points at it") {
    const char* dir = std::getenv("CTNN_MNIST_DIR");
    if (!dir || !std::filesystem::is_directory(dir)) {
        MESSAGE("CTNN_MNIST_DIR is not set to a directory; skipping the real-MNIST check");
        return;
    }
    const auto mnist = ctnn::data::load_mnist(dir);
    const NumberImages train(mnist.train), test(mnist.test);
    std::vector<float> image(NumberImages::size);
    for (std::uint64_t i = 0; i < 200; ++i) {
        const auto drawn = test.draw(1, 0, i, image.data());
        check_image(test, drawn, image.data());
        for (const auto& d : drawn.digits) CHECK(d.source < mnist.test.size());
        check_image(train, train.draw(1, 0, i, image.data()), image.data());
    }
}

} // namespace data_number_images_test
