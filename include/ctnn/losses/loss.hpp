// What every loss sees: a batch of predictions laid out as `rows` rows of
// `width` values (a row per sample, or per time step for sequence outputs) and
// the matching targets. All losses are means over rows, as in Keras.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace ctnn {

struct LossBatch {
    const float* predictions;
    const float* targets;
    std::size_t rows;
    std::size_t width;         // values per prediction row
    std::size_t target_width;  // values per target row
};

// For losses over independent outputs: one target value per prediction value.
inline void require_target_per_output(const LossBatch& b, const char* loss_name) {
    if (b.target_width != b.width)
        throw std::invalid_argument(std::string("ctnn: ") + loss_name +
                                    " needs one target per output: the output has " +
                                    std::to_string(b.width) + " values per row, the targets " +
                                    std::to_string(b.target_width));
}

} // namespace ctnn
