// One optimisation step on a gathered batch (in the backend's memory): what
// fit() does per batch. train_step reads its figures back (the loss, the rows
// classified correctly); train_step_on_device adds them to totals in device
// memory and waits for nothing, so that a graph can hold it
// (training/captured_steps.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ctnn/core/config.hpp"
#include "ctnn/core/context.hpp"
#include "ctnn/core/network.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/training/batching.hpp"

namespace ctnn::detail {

// The loss's gradient, back-propagation and the optimizer's update, after
// the forward pass that gave `b`.
template <class Net, class Opt, class L>
void descend(Net& net, Opt& optimizer, const L& loss, const Context& context, const LossBatch& b,
             std::size_t batch) {
    const auto& backend = net.backend();
    if constexpr (FoldsInto<L, typename Net::output_layer>) {
        loss.folded_gradient(backend, b, net.output_gradient());
        net.backward(context, batch, OutputGradient::of_folded_activation);
    } else {
        loss.gradient(backend, b, net.output_gradient());
        net.backward(context, batch);
    }
    optimizer.step(backend, net.trainable());
}

// Returns the batch's mean loss and writes how many rows it classified
// correctly. targets_checked: the data set's targets were checked already
// (check_targets), so the loss does not scan them again.
template <class Net, class Opt, class L>
float train_step(Net& net, Opt& optimizer, const L& loss, const Context& context,
                 const float* inputs, const float* targets, std::size_t batch,
                 std::size_t target_width, std::size_t& correct, bool targets_checked = false) {
    using rows = OutputRows<Net>;
    const auto& backend = net.backend();
    auto predictions = net.forward({inputs, batch * Net::input_shape::size}, batch, context);
    const LossBatch b = rows::batch(predictions.data(), targets, batch, target_width, targets_checked);
    const float value = loss.value(backend, b) + net.penalty();
    correct = count_correct(backend, b);
    descend(net, optimizer, loss, context, b, batch);
    return value;
}

struct AdvanceStep {
    std::uint64_t* step;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { ++*step; }
};

// totals[0] += batch * (mean loss + penalty), totals[1] += rows classified
// correctly, then the step; at the end the device step counter (which
// context.device_step points to) advances. The targets must have been
// checked (check_targets).
template <class Net, class Opt, class L>
void train_step_on_device(Net& net, Opt& optimizer, const L& loss, const Context& context,
                          const float* inputs, const float* targets, std::size_t batch,
                          std::size_t target_width, double* totals, std::uint64_t* device_step) {
    using rows = OutputRows<Net>;
    const auto& backend = net.backend();
    auto predictions = net.forward({inputs, batch * Net::input_shape::size}, batch, context);
    const LossBatch b = rows::batch(predictions.data(), targets, batch, target_width, true);
    loss.accumulate(backend, b, totals, double(batch));
    net.accumulate_penalty(totals, double(batch));
    backend.accumulate_sum(b.rows, RowCorrect{b}, totals + 1);
    descend(net, optimizer, loss, context, b, batch);
    backend.for_each(1, AdvanceStep{device_step});
}

} // namespace ctnn::detail
