// Accuracy of sequence outputs Shape<T, C>: per step (each character right)
// and per sequence (every step of a sample right: exact match).
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/training/batching.hpp"

namespace ctnn {

struct SequenceAccuracy {
    std::size_t steps = 0, correct_steps = 0;
    std::size_t sequences = 0, correct_sequences = 0;

    // Counts a batch of `steps_per_sequence`-row samples (as OutputRows lays
    // out a network's output and targets).
    void add(const LossBatch& b, std::size_t steps_per_sequence) {
        for (std::size_t first = 0; first < b.rows; first += steps_per_sequence) {
            std::size_t right = 0;
            for (std::size_t r = first; r < first + steps_per_sequence; ++r)
                right += detail::predicted_class(b, r) == detail::true_class(b, r);
            steps += steps_per_sequence;
            correct_steps += right;
            ++sequences;
            correct_sequences += right == steps_per_sequence;
        }
    }

    double per_step() const { return steps ? double(correct_steps) / double(steps) : 0.0; }
    double per_sequence() const {
        return sequences ? double(correct_sequences) / double(sequences) : 0.0;
    }
};

// Both accuracies of `net` over a data set whose targets are class indices
// (one per step) or one-hot rows.
template <class Net>
SequenceAccuracy sequence_accuracy(Net& net, const data::Dataset& data,
                                   std::size_t batch_size = 256) {
    detail::check_dataset<Net>(data, "sequence_accuracy", "the");
    using rows = detail::OutputRows<Net>;
    using Backend = typename Net::backend_type;
    const Backend& backend = net.backend();
    const std::size_t in = Net::input_shape::size, out = data.target_width();
    detail::Staging<Backend> inputs, predictions;
    SequenceAccuracy result;
    for (std::size_t start = 0; start < data.size(); start += batch_size) {
        const std::size_t batch = std::min(batch_size, data.size() - start);
        const float* x = inputs.to_device(backend, data.inputs.data() + start * in, batch * in);
        auto y = net.forward({x, batch * in}, batch);
        // Counted on the host.
        result.add(rows::batch(predictions.to_host(backend, y.data(), y.size()),
                               data.targets.data() + start * out, batch, out),
                   rows::per_sample);
    }
    return result;
}

} // namespace ctnn
