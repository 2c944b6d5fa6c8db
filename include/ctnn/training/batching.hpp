// How a network's outputs and a data set's rows meet a loss: the shared part
// of fit(), evaluate() and predict().
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn::detail {

// A network's output seen as rows of class scores: one row per sample for
// Shape<C>, one per time step for Shape<T, C>.
template <class Net>
struct OutputRows {
    using shape = typename Net::output_shape;
    static constexpr std::size_t width = shape::dims[shape::rank - 1];
    static constexpr std::size_t per_sample = shape::size / width;

    static LossBatch batch(const float* predictions, const float* targets, std::size_t samples,
                           std::size_t target_values_per_sample) {
        return {predictions, targets, samples * per_sample, width,
                target_values_per_sample / per_sample};
    }
};

// Rejects a data set that does not fit the network, naming both shapes.
template <class Net>
void check_dataset(const data::Dataset& data, const char* caller, const char* role) {
    using input = typename Net::input_shape;
    auto fail = [&](const std::string& problem) {
        throw std::invalid_argument(std::string("ctnn: ") + caller + ": " + role + " " + problem);
    };
    if (data.size() == 0) fail("data set is empty");
    if (data.input_width() != input::size)
        fail("inputs have " + std::to_string(data.input_width()) +
             " values per sample, but the network's Input is " + to_string(input{}) + " (" +
             std::to_string(input::size) + " values)");
    if (data.targets.shape(0) != data.size())
        fail("data set has " + std::to_string(data.size()) + " inputs but " +
             std::to_string(data.targets.shape(0)) + " targets");
    if (data.target_width() % OutputRows<Net>::per_sample != 0)
        fail("targets have " + std::to_string(data.target_width()) +
             " values per sample, not a multiple of the output's " +
             std::to_string(OutputRows<Net>::per_sample) + " time steps");
}

// Class of prediction row r, and of its target (index or one-hot row).
inline std::size_t predicted_class(const LossBatch& b, std::size_t r) {
    const float* p = b.predictions + r * b.width;
    if (b.width == 1) return p[0] > 0.5f ? 1 : 0;
    std::size_t best = 0;
    for (std::size_t c = 1; c < b.width; ++c)
        if (p[c] > p[best]) best = c;
    return best;
}

inline std::size_t true_class(const LossBatch& b, std::size_t r) {
    if (b.width == 1) return b.targets[r] > 0.5f ? 1 : 0;
    if (b.target_width == 1) return static_cast<std::size_t>(b.targets[r]);
    const float* t = b.targets + r * b.width;
    std::size_t best = 0;
    for (std::size_t c = 1; c < b.width; ++c)
        if (t[c] > t[best]) best = c;
    return best;
}

inline std::size_t count_correct(const LossBatch& b) {
    std::size_t correct = 0;
    for (std::size_t r = 0; r < b.rows; ++r) correct += predicted_class(b, r) == true_class(b, r);
    return correct;
}

} // namespace ctnn::detail
