// Gradient clipping, Keras's three optimizer options, shared by every
// optimizer through its `clipping` member:
//
//   ctnn::Adam adam{1e-3f};
//   adam.clipping.global_clipnorm = 1.0f;
//
// - global_clipnorm: scale all gradients by min(1, limit / ||g||), with ||g||
//   the norm of the whole gradient (Keras's global_clipnorm exactly).
// - clipnorm: the same, over the whole gradient too. Keras clips each
//   variable (each layer's kernel, each bias) by its own norm; a ctnn network
//   keeps its parameters in one flat buffer that the optimizer sees without
//   its layer boundaries, so here clipnorm acts as global_clipnorm. The two
//   differ when several variables' gradients are large at once: Keras then
//   scales each to the limit, ctnn scales them together.
// - clipvalue: clamp every gradient to [-limit, limit].
//
// At most one may be set (non-zero), as in Keras. The clip runs inside each
// optimizer's update loop, so it costs no extra pass over the gradients
// besides the one that measures the norm.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>

namespace ctnn {

// The clip of one step: g -> clamp(g * scale, -limit, limit).
struct GradientClip {
    float scale = 1.0f;
    float limit = std::numeric_limits<float>::infinity();

    float operator()(float g) const { return std::clamp(g * scale, -limit, limit); }
};

struct GradientClipping {
    float clipnorm = 0.0f;
    float clipvalue = 0.0f;
    float global_clipnorm = 0.0f;

    // The clip for this step's gradients.
    GradientClip prepare(std::span<const float> gradients) const {
        const int set = (clipnorm != 0.0f) + (clipvalue != 0.0f) + (global_clipnorm != 0.0f);
        if (set == 0) return {};
        if (set > 1)
            throw std::invalid_argument(
                "ctnn: only one of clipnorm, clipvalue and global_clipnorm can be set");
        if (clipnorm < 0.0f || clipvalue < 0.0f || global_clipnorm < 0.0f)
            throw std::invalid_argument("ctnn: gradient clipping limits must be positive");
        if (clipvalue != 0.0f) return {1.0f, clipvalue};
        const float limit = clipnorm != 0.0f ? clipnorm : global_clipnorm;
        // Summed in order, in double: the same value whatever the thread count.
        double sum = 0.0;
        for (float g : gradients) sum += double(g) * double(g);
        const double norm = std::sqrt(sum);
        return {norm > limit ? float(limit / norm) : 1.0f};
    }
};

} // namespace ctnn
