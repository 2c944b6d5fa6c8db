// Gradient clipping, Keras's three optimizer options, shared by every
// optimizer through its `clipping` member:
//
//   ctnn::Adam adam{1e-3f};
//   adam.clipping.global_clipnorm = 1.0f;
//
// - clipnorm: scale each variable's gradient (each layer's kernel, each bias:
//   the arrays the layers declare) by min(1, limit / ||g_variable||).
// - global_clipnorm: the same with the norm of the whole gradient.
// - clipvalue: clamp every gradient to [-limit, limit].
//
// At most one may be set (non-zero), as in Keras. The clip runs inside each
// optimizer's update pass, so it costs no extra pass over the gradients
// besides the ones that measure norms.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/core/parameters.hpp"

namespace ctnn {

// The clip of one variable in one step: g -> clamp(g * scale, -limit, limit).
struct GradientClip {
    float scale = 1.0f;
    float limit = std::numeric_limits<float>::infinity();

    CTNN_HOST_DEVICE float operator()(float g) const {
        const float v = g * scale;
        return v < -limit ? -limit : (v > limit ? limit : v);
    }
    bool operator==(const GradientClip&) const = default;
};

// One variable's part of an optimizer step: its clip, and whether weight
// decay shrinks it (AdamW).
struct VariableStep {
    GradientClip clip;
    bool decays = false;
    bool operator==(const VariableStep&) const = default;
};

namespace detail {

struct SquareOfGradient {
    const float* g;
    CTNN_HOST_DEVICE double operator()(std::size_t i) const { return double(g[i]) * double(g[i]); }
};

} // namespace detail

struct GradientClipping {
    float clipnorm = 0.0f;
    float clipvalue = 0.0f;
    float global_clipnorm = 0.0f;

    // Whether prepare() sums gradient norms, which the host then reads: a
    // step that waits for the device, which a captured step cannot hold.
    bool needs_norms() const { return clipnorm != 0.0f || global_clipnorm != 0.0f; }

    // This step's clips: one per variable, or one for all when the
    // parameters name no variables (and no weight decay).
    template <class Backend>
    void prepare(const Backend& backend, const ParameterSet& parameters,
                 std::vector<VariableStep>& steps) const {
        const std::size_t count = std::max<std::size_t>(1, parameters.variables.size());
        steps.assign(count, VariableStep{});
        auto clip_all = [&](GradientClip clip) {
            for (VariableStep& step : steps) step.clip = clip;
        };
        const int set = (clipnorm != 0.0f) + (clipvalue != 0.0f) + (global_clipnorm != 0.0f);
        if (set == 0) return;
        if (set > 1)
            throw std::invalid_argument(
                "ctnn: only one of clipnorm, clipvalue and global_clipnorm can be set");
        if (clipnorm < 0.0f || clipvalue < 0.0f || global_clipnorm < 0.0f)
            throw std::invalid_argument("ctnn: gradient clipping limits must be positive");
        if (clipvalue != 0.0f) return clip_all({1.0f, clipvalue});
        // Norms summed in index order, in double: the same whatever the thread count.
        auto scale_for = [&](std::size_t offset, std::size_t size, float limit) {
            const double norm = std::sqrt(backend.transform_sum(
                size, detail::SquareOfGradient{parameters.gradients.data() + offset}));
            return GradientClip{norm > limit ? float(limit / norm) : 1.0f};
        };
        if (global_clipnorm != 0.0f || parameters.variables.empty())
            return clip_all(scale_for(0, parameters.gradients.size(),
                                      global_clipnorm != 0.0f ? global_clipnorm : clipnorm));
        for (std::size_t v = 0; v < count; ++v)
            steps[v].clip = scale_for(parameters.variables[v].offset, parameters.variables[v].size, clipnorm);
    }
};

} // namespace ctnn
