// A labelled data set held in memory: one row per sample for inputs and targets.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>

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

// The rows of several inputs side by side, sample by sample: the inputs of a
// network with several (Inputs<A, B>), as Keras's fit([a, b], y) takes them:
// Dataset{join_inputs(left_images, right_images), sums}.
template <class... Rows>
xt::xtensor<float, 2> join_inputs(const Rows&... parts) {
    static_assert(sizeof...(Rows) >= 2, "ctnn: join_inputs joins two or more inputs' rows");
    const std::size_t n = std::get<0>(std::tie(parts...)).shape(0);
    std::size_t width = 0, k = 0;
    for (std::size_t rows : {std::size_t(parts.shape(0))...}) {
        if (rows != n)
            throw std::invalid_argument("ctnn: join_inputs: input " + std::to_string(k) + " has " +
                                        std::to_string(rows) + " rows, input 0 has " + std::to_string(n));
        ++k;
    }
    ((width += parts.shape(1)), ...);
    xt::xtensor<float, 2> joined({n, width});
    std::size_t at = 0;
    auto place = [&](const auto& part) {
        const std::size_t w = part.shape(1);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < w; ++j) joined(i, at + j) = part(i, j);
        at += w;
    };
    (place(parts), ...);
    return joined;
}

struct TrainTest {
    Dataset train;
    Dataset test;
};

} // namespace ctnn::data
