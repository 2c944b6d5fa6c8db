// Histograms of oriented gradients, computed as scikit-image 0.19's
// skimage.feature.hog computes them (no sqrt transform, one channel), so that
// features and models carry over from Python work on the same images.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/data/dataset.hpp"

namespace ctnn::data {

enum class BlockNorm { l1, l1_sqrt, l2, l2_hys };

struct RowsCols {
    std::size_t rows = 1;
    std::size_t cols = 1;
};

// scikit-image's defaults.
struct HogOptions {
    std::size_t orientations = 9;
    RowsCols pixels_per_cell{8, 8};
    RowsCols cells_per_block{3, 3};
    BlockNorm block_norm = BlockNorm::l2_hys;
};

namespace detail {

struct HogLayout {
    std::size_t cells_r, cells_c, blocks_r, blocks_c, block_values, features;
};

inline HogLayout hog_layout(std::size_t height, std::size_t width, const HogOptions& o) {
    const RowsCols cell = o.pixels_per_cell, block = o.cells_per_block;
    if (o.orientations == 0 || cell.rows == 0 || cell.cols == 0 || block.rows == 0 ||
        block.cols == 0)
        throw std::invalid_argument(
            "ctnn: hog: orientations, pixels_per_cell and cells_per_block must be positive");
    HogLayout l{height / cell.rows, width / cell.cols, 0, 0, 0, 0};
    if (l.cells_r < block.rows || l.cells_c < block.cols)
        throw std::invalid_argument(
            "ctnn: hog: a " + std::to_string(height) + "x" + std::to_string(width) +
            " image holds " + std::to_string(l.cells_r) + "x" + std::to_string(l.cells_c) +
            " cells of " + std::to_string(cell.rows) + "x" + std::to_string(cell.cols) +
            " pixels, fewer than one block of " + std::to_string(block.rows) + "x" +
            std::to_string(block.cols) + " cells");
    l.blocks_r = l.cells_r - block.rows + 1;
    l.blocks_c = l.cells_c - block.cols + 1;
    l.block_values = block.rows * block.cols * o.orientations;
    l.features = l.blocks_r * l.blocks_c * l.block_values;
    return l;
}

// Cell histograms, cells_r x cells_c x orientations. skimage sums each cell's
// magnitudes in a C float in row-major pixel order and divides in float;
// doing the same makes the histograms bit-identical to its own.
inline void hog_histograms(std::span<const float> image, std::size_t height, std::size_t width,
                           const HogOptions& o, const HogLayout& l, std::vector<float>& hist) {
    const std::size_t bins = o.orientations;
    const double bin_width = 180.0 / double(bins);
    constexpr double degrees = 180.0 / 3.14159265358979323846;
    hist.assign(l.cells_r * l.cells_c * bins, 0.0f);
    auto at = [&](std::size_t r, std::size_t c) { return double(image[r * width + c]); };
    for (std::size_t r = 0; r < l.cells_r * o.pixels_per_cell.rows; ++r) {
        float* row_hist = hist.data() + (r / o.pixels_per_cell.rows) * l.cells_c * bins;
        for (std::size_t c = 0; c < l.cells_c * o.pixels_per_cell.cols; ++c) {
            // [-1, 0, 1] differences, zero on the image's border rows and columns.
            const double g_row = r == 0 || r + 1 == height ? 0.0 : at(r + 1, c) - at(r - 1, c);
            const double g_col = c == 0 || c + 1 == width ? 0.0 : at(r, c + 1) - at(r, c - 1);
            const double magnitude = std::hypot(g_col, g_row);
            // NumPy's float modulo: fmod, shifted into [0, 180) when negative.
            double angle = std::fmod(std::atan2(g_row, g_col) * degrees, 180.0);
            if (angle < 0.0) angle += 180.0;
            // Bin o holds [o, o + 1) * bin_width with the bounds skimage computes;
            // the estimate from the division is corrected against them, and an
            // angle that rounds up to 180 falls in no bin, as in skimage.
            std::size_t bin = std::min(bins - 1, std::size_t(angle / bin_width));
            while (bin > 0 && angle < bin_width * double(bin)) --bin;
            while (bin < bins && angle >= bin_width * double(bin + 1)) ++bin;
            if (bin == bins) continue;
            float& total = row_hist[(c / o.pixels_per_cell.cols) * bins + bin];
            total = float(double(total) + magnitude);
        }
    }
    const float area = float(o.pixels_per_cell.rows * o.pixels_per_cell.cols);
    for (float& total : hist) total /= area;
}

// Normalises one block's values (gathered in `block`) into `out`.
inline void normalize_block(std::span<double> block, BlockNorm norm, float* out) {
    constexpr double eps = 1e-5;
    auto sum_abs = [&] {
        double s = 0.0;
        for (double v : block) s += std::abs(v);
        return s;
    };
    auto l2_scale = [&] {
        double s = 0.0;
        for (double v : block) s += v * v;
        const double scale = std::sqrt(s + eps * eps);
        for (double& v : block) v /= scale;
    };
    switch (norm) {
    case BlockNorm::l1: {
        const double scale = sum_abs() + eps;
        for (double& v : block) v /= scale;
        break;
    }
    case BlockNorm::l1_sqrt: {
        const double scale = sum_abs() + eps;
        for (double& v : block) v = std::sqrt(v / scale);
        break;
    }
    case BlockNorm::l2: l2_scale(); break;
    case BlockNorm::l2_hys:
        l2_scale();
        for (double& v : block) v = std::min(v, 0.2);
        l2_scale();
        break;
    }
    for (std::size_t i = 0; i < block.size(); ++i) out[i] = float(block[i]);
}

// Features in skimage's order: block row, block column, cell row and column
// within the block, orientation. `hist` and `block` are scratch space.
inline void hog_into(std::span<const float> image, std::size_t height, std::size_t width,
                     const HogOptions& o, const HogLayout& l, float* out,
                     std::vector<float>& hist, std::vector<double>& block) {
    hog_histograms(image, height, width, o, l, hist);
    const std::size_t bins = o.orientations;
    block.resize(l.block_values);
    for (std::size_t br = 0; br < l.blocks_r; ++br)
        for (std::size_t bc = 0; bc < l.blocks_c; ++bc) {
            std::size_t k = 0;
            for (std::size_t r = br; r < br + o.cells_per_block.rows; ++r)
                for (std::size_t c = bc; c < bc + o.cells_per_block.cols; ++c)
                    for (std::size_t b = 0; b < bins; ++b)
                        block[k++] = hist[(r * l.cells_c + c) * bins + b];
            normalize_block(block, o.block_norm, out);
            out += l.block_values;
        }
}

} // namespace detail

// How many features hog() returns for a height x width image.
inline std::size_t hog_size(std::size_t height, std::size_t width, const HogOptions& options = {}) {
    return detail::hog_layout(height, width, options).features;
}

// The HOG descriptor of one grayscale image (row-major, height x width). Rows
// and columns that do not fill a whole cell are ignored, as in skimage.
inline std::vector<float> hog(std::span<const float> image, std::size_t height,
                              std::size_t width, const HogOptions& options = {}) {
    if (image.size() != height * width)
        throw std::invalid_argument("ctnn: hog: got " + std::to_string(image.size()) +
                                    " pixels for a " + std::to_string(height) + "x" +
                                    std::to_string(width) + " image");
    const detail::HogLayout layout = detail::hog_layout(height, width, options);
    std::vector<float> features(layout.features), hist;
    std::vector<double> block;
    detail::hog_into(image, height, width, options, layout, features.data(), hist, block);
    return features;
}

// Every image of a data set (rows of height * width pixels) mapped to its HOG
// descriptor; targets are copied. Images are spread over the OpenMP threads.
inline Dataset hog(const Dataset& images, std::size_t height, std::size_t width,
                   const HogOptions& options = {}) {
    if (images.input_width() != height * width)
        throw std::invalid_argument("ctnn: hog: the data set's rows hold " +
                                    std::to_string(images.input_width()) + " values, not " +
                                    std::to_string(height) + "x" + std::to_string(width) +
                                    " pixels");
    const detail::HogLayout layout = detail::hog_layout(height, width, options);
    using Matrix = xt::xtensor<float, 2>;
    Dataset features{Matrix(Matrix::shape_type{images.size(), layout.features}), images.targets};
    const float* pixels = images.inputs.data();
    float* out = features.inputs.data();
    // From 16 images on the work is shared: each costs hundreds of atan2 calls.
    backend::cpu::parallel_for(images.size(), 8, [&](std::size_t first, std::size_t last) {
        std::vector<float> hist;
        std::vector<double> block;
        for (std::size_t i = first; i < last; ++i)
            detail::hog_into({pixels + i * height * width, height * width}, height, width, options,
                             layout, out + i * layout.features, hist, block);
    });
    return features;
}

} // namespace ctnn::data
