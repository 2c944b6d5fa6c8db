// Moving one tensor of several in and out of a batch's rows (core/shapes.hpp):
// a sample's row holds its tensors one after another, and a branch runs on
// one of them as contiguous rows of its own. Functors for backend.for_each.
#pragma once

#include <cstddef>

#include "ctnn/core/config.hpp"

namespace ctnn::detail {

// part[r][j] = rows[r][offset + j], for every row r and j < width.
struct TakePart {
    const float* rows;
    std::size_t row_width, offset, width;
    float* part;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / width, j = i % width;
        part[i] = rows[r * row_width + offset + j];
    }
};

// rows[r][offset + j] = part[r][j].
struct PutPart {
    const float* part;
    std::size_t width;
    float* rows;
    std::size_t row_width, offset;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / width, j = i % width;
        rows[r * row_width + offset + j] = part[i];
    }
};

// sum[r][j] = the sum over k < count of rows[r][k * width + j]: Add.
struct SumParts {
    const float* rows;
    std::size_t count, width;
    float* sum;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / width, j = i % width;
        const float* row = rows + r * count * width + j;
        float total = row[0];
        for (std::size_t k = 1; k < count; ++k) total += row[k * width];
        sum[i] = total;
    }
};

// rows[r][k * width + j] = one[r][j] for every k: each term's gradient of a sum.
struct RepeatPart {
    const float* one;
    std::size_t count, width;
    float* rows;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t row_width = count * width;
        const std::size_t r = i / row_width, j = i % width;
        rows[i] = one[r * width + j];
    }
};

} // namespace ctnn::detail
