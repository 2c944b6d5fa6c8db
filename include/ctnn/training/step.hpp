// One optimisation step on a gathered batch (in the backend's memory): what
// fit() does per batch. train_step reads its figures back (the loss, the rows
// classified correctly); train_step_on_device adds them to totals in device
// memory and waits for nothing, so that a graph can hold it
// (training/captured_steps.hpp).
//
// Both refuse a non-finite step: when the loss or a gradient is NaN or
// infinite, the optimizer leaves the weights and its state as they were, so
// the network keeps those of the last good step.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ctnn/core/config.hpp"
#include "ctnn/core/context.hpp"
#include "ctnn/core/fast_math.hpp"
#include "ctnn/core/network.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/training/batching.hpp"

namespace ctnn::detail {

// What made a step non-finite, as the device guard's flag records it.
enum class NonFinite : std::uint32_t { none = 0, loss = 1, gradients = 2 };

// *flag = 1 if a value is NaN or infinite: one parallel pass over blocks,
// each an integer OR over its values' exponent bits (all ones only for
// NaN and infinities), which vectorises; every writer writes the same 1.
struct FlagNonFinite {
    static constexpr std::size_t block = 4096;
    const float* values;
    std::size_t n;
    double* flag;
    static std::size_t blocks(std::size_t n) { return (n + block - 1) / block; }
    CTNN_HOST_DEVICE void operator()(std::size_t b) const {
        constexpr std::int32_t exponent = 0x7f800000;
        const std::size_t first = b * block, last = first + block < n ? first + block : n;
        std::int32_t all_ones = 0;
        for (std::size_t i = first; i < last; ++i) all_ones |= (fast::bits_of(values[i]) & exponent) == exponent;
        if (all_ones) *flag = 1.0;
    }
};

struct ClearFlag {
    double* flag;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { *flag = 0.0; }
};

// Whether a gradient is non-finite, through `flag` in device memory.
template <class Net>
bool gradients_non_finite(const Net& net, double* flag) {
    const auto& backend = net.backend();
    backend.for_each(1, ClearFlag{flag});
    backend.for_each(FlagNonFinite::blocks(Net::param_count),
                     FlagNonFinite{net.gradients().data(), Net::param_count, flag}, FlagNonFinite::block);
    double host = 0.0;
    to_host_bytes(backend, flag, &host, 1);
    return host != 0.0;
}

struct ScaleValues {
    float* values;
    float factor;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { values[i] *= factor; }
};

// The loss's gradient and back-propagation, after the forward pass that gave
// `b`. In a data-parallel step the loss's gradient (of this process's mean)
// is scaled to its share of the global batch's mean, so that the processes'
// gradients add up to the global batch's.
template <class Net, class L>
void back_propagate(Net& net, const L& loss, const Context& context, const LossBatch& b, std::size_t batch) {
    const auto& backend = net.backend();
    constexpr bool folded = FoldsInto<L, typename Net::output_layer>;
    if constexpr (folded)
        loss.folded_gradient(backend, b, net.output_gradient());
    else
        loss.gradient(backend, b, net.output_gradient());
    if (context.batch_share != 1.0f)
        backend.for_each(batch * Net::output_shape::size, ScaleValues{net.output_gradient(), context.batch_share});
    net.backward(context, batch, folded ? OutputGradient::of_folded_activation : OutputGradient::of_output);
}

struct StepResult {
    float loss = 0.0f;          // the batch's mean loss, penalty included
    std::size_t correct = 0;    // rows classified correctly
    NonFinite problem = NonFinite::none;  // not none: no update was made
};

// targets_checked: the data set's targets were checked already
// (check_targets), so the loss does not scan them again. gradient_flag: a
// double in device memory for the check of the gradients (none: no check).
template <class Net, class Opt, class L>
StepResult train_step(Net& net, Opt& optimizer, const L& loss, const Context& context,
                      const float* inputs, const float* targets, std::size_t batch,
                      std::size_t target_width, bool targets_checked = false,
                      double* gradient_flag = nullptr) {
    using rows = OutputRows<Net>;
    const auto& backend = net.backend();
    if constexpr (requires { backend.between_steps(); }) backend.between_steps();
    auto predictions = net.forward({inputs, batch * Net::input_shape::size}, batch, context);
    const LossBatch b = rows::batch(predictions.data(), targets, batch, target_width, targets_checked);
    StepResult result{loss.value(backend, b) + net.penalty(), count_correct(backend, b)};
    if (!std::isfinite(result.loss)) {
        result.problem = NonFinite::loss;
        return result;
    }
    back_propagate(net, loss, context, b, batch);
    if (gradient_flag != nullptr && gradients_non_finite(std::as_const(net), gradient_flag)) {
        result.problem = NonFinite::gradients;
        return result;
    }
    optimizer.step(backend, net.trainable());
    return result;
}

struct AdvanceStep {
    std::uint64_t* step;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { ++*step; }
};

// The device side of the non-finite check: per step, the step's loss sum and
// whether a gradient is non-finite (slots), the flag the optimizer reads
// (ParameterSet::halted: NonFinite's value), the first bad step, how many
// were skipped, and the state (BatchNorm's running statistics) as it was
// before the first bad step's forward pass wrote it.
struct GuardSlots {
    double* step_sums;          // [0] loss * batch, [1] 1 if a gradient is non-finite
    std::uint32_t* halted;
    std::uint64_t* first_bad;   // the step counter's value at the first bad step
    std::uint64_t* skipped;
    float* state_backup;
};

struct BeginGuardedStep {
    GuardSlots slots;
    CTNN_HOST_DEVICE void operator()(std::size_t) const {
        slots.step_sums[0] = 0.0;
        slots.step_sums[1] = 0.0;
    }
};

// state_backup = state, while no step has halted.
struct BackUpState {
    GuardSlots slots;
    const float* state;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        if (*slots.halted == 0) slots.state_backup[i] = state[i];
    }
};

// Halts the step if its loss or a gradient is non-finite; else its loss
// joins the epoch's (totals[0]). skip: the halt lasts this step only.
struct JudgeStep {
    GuardSlots slots;
    double* totals;
    const std::uint64_t* step;
    bool skip;
    CTNN_HOST_DEVICE void operator()(std::size_t) const {
        const double loss = slots.step_sums[0];
        // In float, as the uncaptured step reads it: a sum beyond float's range is infinite.
        const float as_float = float(loss);
        const bool bad_loss = !(as_float - as_float == 0.0f);
        if (bad_loss || slots.step_sums[1] != 0.0) {
            if (*slots.halted == 0 && *slots.first_bad == ~std::uint64_t{0}) *slots.first_bad = *step;
            *slots.halted = std::uint32_t(bad_loss ? NonFinite::loss : NonFinite::gradients);
            if (skip) ++*slots.skipped;
        } else if (*slots.halted == 0) {
            totals[0] += loss;
        }
    }
};

// After a skipped step: the state as before it, and the next step may update.
struct RestoreState {
    GuardSlots slots;
    float* state;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        if (*slots.halted != 0) state[i] = slots.state_backup[i];
    }
};
struct EndSkippedStep {
    GuardSlots slots;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { *slots.halted = 0; }
};

// totals[0] += batch * (mean loss + penalty), totals[1] += rows classified
// correctly, then the step unless the guard halts it; at the end the device
// step counter (which context.device_step points to) advances. The targets
// must have been checked (check_targets).
template <class Net, class Opt, class L>
void train_step_on_device(Net& net, Opt& optimizer, const L& loss, const Context& context,
                          const float* inputs, const float* targets, std::size_t batch,
                          std::size_t target_width, double* totals, std::uint64_t* device_step,
                          const GuardSlots& guard, bool skip_non_finite) {
    using rows = OutputRows<Net>;
    const auto& backend = net.backend();
    float* state = net.state().data();
    backend.for_each(1, BeginGuardedStep{guard});
    if constexpr (Net::state_count != 0) backend.for_each(Net::state_count, BackUpState{guard, state});
    auto predictions = net.forward({inputs, batch * Net::input_shape::size}, batch, context);
    const LossBatch b = rows::batch(predictions.data(), targets, batch, target_width, true);
    loss.accumulate(backend, b, guard.step_sums, double(batch));
    net.accumulate_penalty(guard.step_sums, double(batch));
    backend.accumulate_sum(b.rows, RowCorrect{b}, totals + 1);
    back_propagate(net, loss, context, b, batch);
    backend.for_each(FlagNonFinite::blocks(Net::param_count),
                     FlagNonFinite{std::as_const(net).gradients().data(), Net::param_count, guard.step_sums + 1},
                     FlagNonFinite::block);
    backend.for_each(1, JudgeStep{guard, totals, device_step, skip_non_finite});
    ParameterSet parameters = net.trainable();
    parameters.halted = guard.halted;
    optimizer.step(backend, parameters);
    if (skip_non_finite) {
        if constexpr (Net::state_count != 0) backend.for_each(Net::state_count, RestoreState{guard, state});
        backend.for_each(1, EndSkippedStep{guard});
    }
    backend.for_each(1, AdvanceStep{device_step});
}

} // namespace ctnn::detail
