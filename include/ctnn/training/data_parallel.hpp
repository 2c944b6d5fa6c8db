// fit()'s data-parallel part (FitOptions::distributed): every process holds
// the whole network and trains on its shard of each global batch.
//
// - The global order of every epoch is the single-process one (the same
//   shuffle from the seed on every process); global batch k is the
//   batch_size * processes samples from k * that on, and process r takes its
//   contiguous shard of it (dist::shard_of), so that sample j of the shard is
//   sample shard.first + j of the global batch. Dropout masks and noise are
//   keyed on that place (Context::sample_offset), so a data-parallel run draws
//   the masks of the single-process run at the global batch.
// - Each process scales its loss's gradient to its share of the global mean
//   (Context::batch_share); one in-place all-reduce of the contiguous
//   gradient buffer then gives every process the global batch's gradient, and
//   every process takes the same optimizer step. The loss and the rows
//   classified correctly go in a second, two-value all-reduce, before the
//   backward pass, so that every process agrees on a non-finite loss.
// - At the start rank 0's parameters, state, optimizer state and
//   initial_epoch go to every process (a checkpoint loaded on rank 0 resumes
//   the whole job), after a check that every process runs the same network
//   on the same data with the same options.
// - Per-process BatchNorm statistics (the default) leave each process with
//   its own running statistics; they are averaged at the end of every epoch.
//   With DataParallel::sync_batch_norm they are the global batch's, the same
//   everywhere. A global batch smaller than the process count (a short last
//   batch) leaves some processes without samples: they add zero gradients,
//   except with synchronised BatchNorm, where the batch is left out.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/context.hpp"
#include "ctnn/core/network.hpp"
#include "ctnn/distributed/communicator.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/optimizers/optimizer.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/confusion_matrix.hpp"
#include "ctnn/training/evaluate.hpp"
#include "ctnn/training/step.hpp"

namespace ctnn::detail {

// Checks that the communicator takes the memory the network lives in.
template <class Backend>
void check_communicator_memory(const dist::Communicator& communicator) {
    if (communicator.gpu_memory() == Backend::host_memory)
        throw std::invalid_argument(
            std::string("ctnn: fit: a network on the ") + std::string(Backend::name) + " backend needs a " +
            (Backend::host_memory ? "communicator for host memory (dist::Mpi)"
                                  : "communicator for GPU memory (dist::Nccl)") +
            " for data-parallel training");
}

// One process's figures that every process must share: a mismatch names the
// first that differs from rank 0's.
inline void check_same_run(const dist::Communicator& communicator,
                           const std::vector<std::pair<const char*, std::uint64_t>>& figures) {
    std::vector<std::uint64_t> root(figures.size());
    for (std::size_t i = 0; i < figures.size(); ++i) root[i] = figures[i].second;
    communicator.host_broadcast(root.data(), root.size() * sizeof(std::uint64_t), 0);
    for (std::size_t i = 0; i < figures.size(); ++i)
        if (root[i] != figures[i].second)
            communicator.abort("fit: data-parallel processes disagree: " + std::string(figures[i].first) +
                               " is " + std::to_string(figures[i].second) + " here but " +
                               std::to_string(root[i]) + " on rank 0");
}

// Rank 0's parameters, state and optimizer state to every process.
template <class Net, class Opt>
void broadcast_start(const dist::Communicator& communicator, Net& net, Opt& optimizer) {
    const auto& backend = net.backend();
    communicator.broadcast(net.parameters().data(), Net::param_count, 0);
    if constexpr (Net::state_count != 0) communicator.broadcast(net.state().data(), Net::state_count, 0);
    if constexpr (requires { Opt::hyperparameters(optimizer, [](const char*, auto&) {}); })
        Opt::hyperparameters(optimizer, [&](const char*, auto& value) {
            communicator.host_broadcast(&value, sizeof value, 0);
        });
    else
        communicator.host_broadcast(&optimizer.learning_rate, sizeof optimizer.learning_rate, 0);
    if constexpr (requires { optimizer.set_iterations(optimizer.iterations()); }) {
        std::uint64_t iterations = optimizer.iterations();
        communicator.host_broadcast(&iterations, sizeof iterations, 0);
        optimizer.set_iterations(iterations);
    }
    if constexpr (requires { Opt::slots(optimizer, [](const char*, SlotArray&) {}); })
        Opt::slots(optimizer, [&](const char*, SlotArray& slot) {
            std::uint8_t held = slot.empty() ? 0 : 1;
            communicator.host_broadcast(&held, 1, 0);
            if (held)
                communicator.broadcast(slot.ensure(backend, Net::param_count), Net::param_count, 0);
            else
                slot.clear();
        });
}

// The running statistics' mean over the processes.
template <class Net>
void average_state(const dist::Communicator& communicator, Net& net) {
    if constexpr (Net::state_count != 0) {
        float* state = net.state().data();
        communicator.all_reduce_sum(state, Net::state_count);
        net.backend().for_each(Net::state_count, ScaleValues{state, 1.0f / float(communicator.size())});
    }
}

// One data-parallel step: this process's `local` samples of a global batch
// of `global` (context says where they sit). Returns the global batch's
// figures, the same on every process.
template <class Net, class Opt, class L>
StepResult data_parallel_step(const dist::Communicator& communicator, Net& net, Opt& optimizer, const L& loss,
                              const Context& context, const float* inputs, const float* targets,
                              std::size_t local, std::size_t global, std::size_t target_width,
                              bool targets_checked, double* gradient_flag) {
    using rows = OutputRows<Net>;
    const auto& backend = net.backend();
    if constexpr (requires { backend.between_steps(); }) backend.between_steps();
    double figures[2] = {0.0, 0.0};  // loss * samples, rows classified correctly
    LossBatch b{};
    if (local > 0) {
        auto predictions = net.forward({inputs, local * Net::input_shape::size}, local, context);
        b = rows::batch(predictions.data(), targets, local, target_width, targets_checked);
        figures[0] = double(loss.value(backend, b) + net.penalty()) * double(local);
        figures[1] = double(count_correct(backend, b));
    }
    communicator.host_all_reduce_sum(figures, 2);
    StepResult result{float(figures[0] / double(global)), std::size_t(figures[1])};
    if (!std::isfinite(result.loss)) {
        result.problem = NonFinite::loss;
        return result;
    }
    if (local > 0)
        back_propagate(net, loss, context, b, local);
    else
        backend.fill(net.gradients().data(), Net::param_count, 0.0f);
    communicator.all_reduce_sum(net.gradients().data(), Net::param_count);
    if (gradient_flag != nullptr && gradients_non_finite(std::as_const(net), gradient_flag)) {
        result.problem = NonFinite::gradients;
        return result;
    }
    optimizer.step(backend, net.trainable());
    return result;
}

// Validation over every process: each evaluates its shard of the data set.
template <class Net, class L>
std::pair<float, float> data_parallel_validation(const dist::Communicator& communicator, Net& net,
                                                 const data::Dataset& data, const L& loss,
                                                 std::size_t batch_size) {
    using rows = OutputRows<Net>;
    const dist::Shard shard = dist::shard_of(data.size(), communicator.rank(), communicator.size());
    ConfusionMatrix confusion(rows::width > 1 ? rows::width : 2);
    double figures[3] = {0.0, 0.0, 0.0};  // loss * rows, rows, rows classified correctly
    std::size_t row_count = 0;
    evaluate_rows(net, data, loss, batch_size, shard.first, shard.last, figures[0], row_count, confusion);
    figures[1] = double(row_count);
    figures[2] = confusion.accuracy() * double(row_count);
    communicator.host_all_reduce_sum(figures, 3);
    return {float(figures[0] / figures[1]) + net.penalty(), float(std::round(figures[2]) / figures[1])};
}

} // namespace ctnn::detail
