// What a forward or backward call needs besides tensors: the mode, and the
// seeds and counters that the random layers (dropout, noise) draw from.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ctnn/core/random.hpp"

namespace ctnn {

// Sums per-channel figures over every process of a data-parallel batch, in
// the memory of the backend the network runs on: what BatchNorm with
// synchronised statistics calls (distributed/communicator.hpp makes one).
struct BatchStatisticsSum {
    virtual ~BatchStatisticsSum() = default;
    virtual void all_reduce_sum(double* values, std::size_t n) const = 0;
};

enum class Mode { inference, training };

struct Context {
    Mode mode = Mode::inference;
    std::uint64_t seed = 0;    // run seed: dropout masks and noise derive from it
    std::uint64_t step = 0;    // training step: a new mask every step
    std::uint64_t stream = 0;  // set by the network: each layer draws from its own stream
    // Where set, the step is this counter in device memory, read when the
    // kernels run: what a captured training step advances (fit sets it).
    const std::uint64_t* device_step = nullptr;

    // Data parallelism (training/data_parallel.hpp): this process runs
    // `batch` samples of a global batch of global_batch (0: the batch is the
    // whole batch), from sample_offset on. Random layers key each draw on the
    // sample's place in the global batch, so that every process draws what a
    // single process would; the loss's gradient is scaled by batch_share, the
    // process's part of the global batch's mean. batch_statistics, where
    // set, makes BatchNorm take its statistics over the global batch.
    std::size_t sample_offset = 0;
    std::size_t global_batch = 0;
    float batch_share = 1.0f;
    const BatchStatisticsSum* batch_statistics = nullptr;

    bool training() const { return mode == Mode::training; }
    // The key of this call's random draws (dropout masks, noise).
    StepKey draw_key() const { return {stream_key(seed, stream, step), seed, stream, device_step}; }
};

} // namespace ctnn
