// What a forward or backward call needs besides tensors: the mode, and the
// seeds and counters that the random layers (dropout, noise) draw from.
#pragma once

#include <cstdint>

#include "ctnn/core/random.hpp"

namespace ctnn {

enum class Mode { inference, training };

struct Context {
    Mode mode = Mode::inference;
    std::uint64_t seed = 0;    // run seed: dropout masks and noise derive from it
    std::uint64_t step = 0;    // training step: a new mask every step
    std::uint64_t stream = 0;  // set by the network: each layer draws from its own stream
    // Where set, the step is this counter in device memory, read when the
    // kernels run: what a captured training step advances (fit sets it).
    const std::uint64_t* device_step = nullptr;

    bool training() const { return mode == Mode::training; }
    // The key of this call's random draws (dropout masks, noise).
    StepKey draw_key() const { return {stream_key(seed, stream, step), seed, stream, device_step}; }
};

} // namespace ctnn
