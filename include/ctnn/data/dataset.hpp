// A labelled data set held in memory: one row per sample for inputs and targets.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "ctnn/core/shape.hpp"

namespace ctnn::data {

// Inputs are flattened in the network's Input<...> order (channels-first for
// images). Targets are a class index (width 1), a one-hot/probability row, or
// regression values; the loss decides how to read them.
struct Dataset {
    xt::xtensor<float, 2> inputs;
    xt::xtensor<float, 2> targets;

    std::size_t size() const { return inputs.shape(0); }
    std::size_t input_width() const { return inputs.shape(1); }
    std::size_t target_width() const { return targets.shape(1); }
};

// Rows of a data set (its inputs or targets) seen with each sample's shape,
// without a copy: as_samples<Net::input_shape>(data.inputs) is (n, C, H, W)
// for images, (n, T, F) for sequences; const rows give a read-only view.
template <class SampleShape, class Rows>
auto as_samples(Rows& rows) {
    if (rows.shape(1) != SampleShape::size)
        throw std::invalid_argument("ctnn: rows of " + std::to_string(rows.shape(1)) +
                                    " values cannot be samples of " + to_string(SampleShape{}));
    std::array<std::size_t, SampleShape::rank + 1> shape{rows.shape(0)};
    std::copy(SampleShape::dims.begin(), SampleShape::dims.end(), shape.begin() + 1);
    return xt::adapt(rows.data(), rows.size(), xt::no_ownership(), shape);
}

struct TrainTest {
    Dataset train;
    Dataset test;
};

} // namespace ctnn::data
