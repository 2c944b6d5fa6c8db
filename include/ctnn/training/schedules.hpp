// Learning-rate schedules, as Keras's LearningRateScheduler callback takes them:
// called before each epoch (counted from 0) with the optimiser's current rate,
// returning the rate for that epoch.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>

namespace ctnn {

using LearningRateSchedule = std::function<float(std::size_t epoch, float learning_rate)>;

// Half a cosine from `initial` at epoch 0 down to initial * final_fraction
// at epoch `epochs` (Keras's CosineDecay, stepped per epoch).
inline LearningRateSchedule cosine_decay(float initial, std::size_t epochs,
                                         float final_fraction = 0.0f) {
    return [=](std::size_t epoch, float) {
        double progress = epochs ? std::fmin(double(epoch) / double(epochs), 1.0) : 1.0;
        double cosine = 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
        return float(initial * (final_fraction + (1.0 - final_fraction) * cosine));
    };
}

// Multiplies the rate by `factor` every `every` epochs.
inline LearningRateSchedule step_decay(float initial, std::size_t every, float factor) {
    return [=](std::size_t epoch, float) {
        return float(initial * std::pow(double(factor), double(epoch / every)));
    };
}

} // namespace ctnn
