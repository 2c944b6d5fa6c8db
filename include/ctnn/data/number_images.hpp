// The number images of seeds 000/002 (Homework 3): a number from 0 to 254
// written with MNIST digits in a 28x84 image, made as the course's generator
// made them (../shared/reference/number_images.md): each digit a random MNIST
// image of it, moved by its own random affine transform, cropped to its ink
// with a random margin, and the digits side by side, centred.
//
// Every image is a function of (seed, epoch, index) alone, so a stream of
// them is the same whichever thread makes it and in whatever order, and no
// epoch is ever held in memory. Pixels are in [0, 1] as load_mnist gives them
// (the original kept 0..255; only the scale differs).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/random.hpp"
#include "ctnn/data/dataset.hpp"

namespace ctnn::data {

// Where a number's digits sit in its image: its columns [begin, end) hold the
// crop of one MNIST image, `source` (a row of the digits' data set).
struct DigitPlacement {
    int digit = 0;
    std::size_t source = 0;
    std::size_t begin = 0, end = 0;
};

struct NumberImage {
    int number = 0;
    std::vector<DigitPlacement> digits;  // left to right
};

class NumberImages {
public:
    static constexpr std::size_t height = 28, width = 84, size = height * width;
    static constexpr std::size_t digit_side = 28;
    static constexpr int numbers = 255;  // 0..254: the original drew randrange(255)
    // Reading targets: the number right-aligned in three symbols, 0-9 a digit
    // and 10 a blank before a shorter number (" 42" is 10, 4, 2).
    static constexpr std::size_t positions = 3, symbols = 11, blank = 10;

    // `digits`: MNIST images (28x28, values in [0, 1]) and their labels, the
    // training split for training images, the test split for test images.
    // They are read in place, so they must outlive this object.
    explicit NumberImages(const Dataset& digits) : digits_(digits) {
        if (digits.size() == 0 || digits.input_width() != digit_side * digit_side || digits.target_width() != 1)
            throw std::invalid_argument("ctnn: NumberImages needs 28x28 digit images with one label each, got " +
                                        std::to_string(digits.size()) + " rows of " +
                                        std::to_string(digits.input_width()) + " values and " +
                                        std::to_string(digits.target_width()) + " targets");
        for (std::size_t row = 0; row < digits.size(); ++row) {
            const float label = digits.targets(row, 0);
            if (!(label >= 0.0f && label <= 9.0f) || label != std::floor(label))
                throw std::invalid_argument("ctnn: NumberImages: digit row " + std::to_string(row) +
                                            " has label " + std::to_string(label) + ", not 0..9");
            by_label_[std::size_t(label)].push_back(row);
        }
        for (std::size_t d = 0; d < 10; ++d)
            if (by_label_[d].empty())
                throw std::invalid_argument("ctnn: NumberImages: no image of the digit " + std::to_string(d));
    }

    // Image `index` of `epoch` for `seed`: `image` receives height x width
    // values.
    NumberImage draw(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index, float* image) const {
        Rng rng(stream_key(seed ^ 0x6e756d62ULL, epoch, index));
        return draw(rng, int(rng.below(numbers)), image);
    }

    // `number` written with digits drawn from `rng`.
    NumberImage draw(Rng& rng, int number, float* image) const {
        if (number < 0 || number >= 1000)
            throw std::invalid_argument("ctnn: NumberImages: " + std::to_string(number) + " is not 0..999");
        NumberImage result{number, {}};
        const std::string text = std::to_string(number);
        std::array<std::array<float, digit_side * digit_side>, 3> crops{};
        std::size_t strip = 0;
        for (char c : text) {
            const std::vector<std::size_t>& pool = by_label_[std::size_t(c - '0')];
            const std::size_t source = pool[rng.below(pool.size())];
            std::array<float, digit_side * digit_side>& moved = crops[result.digits.size()];
            augment(&digits_.inputs(source, 0), rng, moved.data());
            const auto [begin, end] = crop(moved.data(), rng);
            result.digits.push_back({c - '0', source, begin, end});
            strip += end - begin;
        }
        // Centred: the odd column, if any, goes to the left margin.
        const std::size_t right_margin = (width - strip) / 2;
        std::size_t column = width - right_margin - strip;
        std::fill(image, image + size, 0.0f);
        for (std::size_t d = 0; d < result.digits.size(); ++d) {
            DigitPlacement& placed = result.digits[d];
            for (std::size_t r = 0; r < height; ++r)
                for (std::size_t c = placed.begin; c < placed.end; ++c)
                    image[r * width + column + (c - placed.begin)] = crops[d][r * digit_side + c];
            const std::size_t crop_width = placed.end - placed.begin;
            placed.begin = column;
            placed.end = column + crop_width;
            column += crop_width;
        }
        return result;
    }

    // The reading targets of `number`: `positions` symbol indices.
    static void reading_targets(int number, float* targets) {
        for (std::size_t p = 0; p < positions; ++p) {
            targets[positions - 1 - p] = (p == 0 || number > 0) ? float(number % 10) : float(blank);
            number /= 10;
        }
    }

    // The number that reading targets (or a network's chosen symbols) spell:
    // -1 when they are not a number (a blank between digits, or only blanks).
    static int read_symbols(const std::size_t* symbol) {
        int number = 0;
        bool started = false;
        for (std::size_t p = 0; p < positions; ++p) {
            if (symbol[p] == blank) {
                if (started) return -1;
                continue;
            }
            started = true;
            number = number * 10 + int(symbol[p]);
        }
        return started ? number : -1;
    }

    const Dataset& digits() const { return digits_; }

    // The per-digit transform: scale 0.8-1.0 per axis, translation up to 10%
    // of the side per axis, rotation up to 15 and shear up to 5 degrees, all
    // uniform, about the centre; bilinear, zero outside, and rounded to the
    // byte levels of the original's uint8 images (so that "ink" means a
    // visible value, not a bilinear tail).
    static void augment(const float* digit, Rng& rng, float* out) {
        constexpr float degrees = 3.14159265358979f / 180.0f;
        const float scale_x = rng.uniform(0.8f, 1.0f), scale_y = rng.uniform(0.8f, 1.0f);
        const float shift_x = rng.uniform(-0.1f, 0.1f) * digit_side, shift_y = rng.uniform(-0.1f, 0.1f) * digit_side;
        const float rotation = rng.uniform(-15.0f, 15.0f) * degrees;
        const float shear = rng.uniform(-5.0f, 5.0f) * degrees;
        // Forward map about the centre (skimage's AffineTransform, as imgaug
        // builds it): [a b; c d] = [sx cos r, -sy sin(r + s); sx sin r, sy cos(r + s)].
        const float a = scale_x * std::cos(rotation), b = -scale_y * std::sin(rotation + shear);
        const float c = scale_x * std::sin(rotation), d = scale_y * std::cos(rotation + shear);
        const float det = a * d - b * c;
        const float ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
        const float centre = (digit_side - 1) / 2.0f;
        for (std::size_t y = 0; y < digit_side; ++y)
            for (std::size_t x = 0; x < digit_side; ++x) {
                const float u = float(x) - centre - shift_x, v = float(y) - centre - shift_y;
                const float sx = ia * u + ib * v + centre, sy = ic * u + id * v + centre;
                out[y * digit_side + x] = std::round(bilinear(digit, sx, sy) * 255.0f) / 255.0f;
            }
    }

    // The columns [begin, end) of an augmented digit that the original kept:
    // from its first inked column F and the last one L of that first run of
    // inked columns, [F - 1 - c1, L + c2) for c1, c2 uniform in -1..2; the
    // whole digit when it has no ink or the crop would be under 6 columns.
    static std::pair<std::size_t, std::size_t> crop(const float* digit, Rng& rng) {
        const int cut_left = int(rng.below(4)) - 1, cut_right = int(rng.below(4)) - 1;
        constexpr int side = int(digit_side);
        auto inked = [&](int column) {
            for (int r = 0; r < side; ++r)
                if (digit[r * side + column] > 0.0f) return true;
            return false;
        };
        int first = 0;
        while (first < side && !inked(first)) ++first;
        if (first == side) return {0, digit_side};
        int last = first;
        while (last + 1 < side && inked(last + 1)) ++last;
        const int begin = std::max(first - 1 - cut_left, 0), end = std::min(last + cut_right, side);
        if (end - begin < 6) return {0, digit_side};
        return {std::size_t(begin), std::size_t(end)};
    }

private:
    static float bilinear(const float* digit, float x, float y) {
        const float fx = std::floor(x), fy = std::floor(y);
        const int x0 = int(fx), y0 = int(fy);
        const float tx = x - fx, ty = y - fy;
        auto at = [&](int xx, int yy) {
            constexpr int side = int(digit_side);
            return (xx < 0 || yy < 0 || xx >= side || yy >= side) ? 0.0f : digit[yy * side + xx];
        };
        return (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x0 + 1, y0)) +
               ty * ((1 - tx) * at(x0, y0 + 1) + tx * at(x0 + 1, y0 + 1));
    }

    const Dataset& digits_;
    std::array<std::vector<std::size_t>, 10> by_label_;
};

// `count` images of `epoch` with their reading targets, in memory: a test set.
inline Dataset number_reading_set(const NumberImages& images, std::size_t count, std::uint64_t seed,
                                  std::uint64_t epoch = 0) {
    Dataset set{xt::zeros<float>({count, NumberImages::size}),
                xt::zeros<float>({count, NumberImages::positions})};
    for (std::size_t i = 0; i < count; ++i) {
        const NumberImage drawn = images.draw(seed, epoch, i, &set.inputs(i, 0));
        NumberImages::reading_targets(drawn.number, &set.targets(i, 0));
    }
    return set;
}

} // namespace ctnn::data
