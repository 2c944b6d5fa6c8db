// A labelled data set held in memory: one row per sample for inputs and targets.
#pragma once

#include <cstddef>
#include <string>

#include <xtensor/xtensor.hpp>

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

struct TrainTest {
    Dataset train;
    Dataset test;
};

} // namespace ctnn::data
