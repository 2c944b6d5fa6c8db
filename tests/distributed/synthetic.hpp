// The data-parallel tests' data set: three classes, each feature a normal
// draw shifted by one where its index picks the sample's class.
#pragma once

#include <cstddef>
#include <cstdint>

#include <ctnn/ctnn.hpp>

namespace ctnn::testing {

inline data::Dataset three_classes(std::size_t n, std::size_t width, std::uint64_t seed) {
    data::Dataset data{xt::xtensor<float, 2>({n, width}), xt::xtensor<float, 2>({n, 1})};
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t label = i % 3;
        for (std::size_t j = 0; j < width; ++j)
            data.inputs(i, j) = rng.normal() * 0.5f + (j % 3 == label ? 1.0f : 0.0f);
        data.targets(i, 0) = float(label);
    }
    return data;
}

} // namespace ctnn::testing
