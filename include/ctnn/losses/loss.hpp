// What every loss sees: a batch of predictions laid out as `rows` rows of
// `width` values (a row per sample, or per time step for sequence outputs) and
// the matching targets. All losses are means over rows, as in Keras.
#pragma once

#include <cstddef>

namespace ctnn {

struct LossBatch {
    const float* predictions;
    const float* targets;
    std::size_t rows;
    std::size_t width;         // values per prediction row
    std::size_t target_width;  // values per target row
};

} // namespace ctnn
