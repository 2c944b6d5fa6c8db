// What a forward or backward call needs besides tensors: the mode, and the
// seeds and counters that the random layers (dropout, noise) draw from.
#pragma once

#include <cstdint>

namespace ctnn {

enum class Mode { inference, training };

struct Context {
    Mode mode = Mode::inference;
    std::uint64_t seed = 0;    // run seed: dropout masks and noise derive from it
    std::uint64_t step = 0;    // training step: a new mask every step
    std::uint64_t stream = 0;  // set by the network: each layer draws from its own stream

    bool training() const { return mode == Mode::training; }
};

} // namespace ctnn
