// One training step on one batch, for programs that write their own loop
// (Keras's train_on_batch): what fit() does per batch, with the step's loss
// and the share of rows classified right.
//
//   ctnn::BatchTrainer trainer(net, ctnn::Adam{}, ctnn::CategoricalCrossEntropy{}, {.seed = 1});
//   for (...) auto figures = trainer.train_on_batch(inputs, targets);  // rows of host values
//
// Dropout and noise draw from (seed, step) as in fit(), so the steps of a
// fit() over batches in the same order, with the same seed, are these steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <xtensor/xtensor.hpp>

#include "ctnn/core/context.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/step.hpp"

namespace ctnn {

struct BatchTrainerOptions {
    std::uint64_t seed = 0;         // of dropout masks and noise, as FitOptions::seed
    std::uint64_t first_step = 0;   // where a resumed loop goes on (fit: epochs * steps per epoch)
};

struct BatchFigures {
    float loss = 0.0f;       // the batch's mean loss, penalty included
    float accuracy = 0.0f;   // the share of output rows classified right
};

template <class Net, class Opt, class L>
class BatchTrainer {
public:
    BatchTrainer(Net& net, Opt optimizer, L loss, BatchTrainerOptions options = {})
        : net_(net), optimizer_(std::move(optimizer)), loss_(std::move(loss)),
          context_{Mode::training, options.seed, options.first_step, 0} {}

    // One step on `inputs` (rows of Net::input_shape::size values) and their
    // targets. A non-finite loss or gradient changes nothing (the weights,
    // the optimizer's state and BatchNorm's running statistics stay as they
    // were) and throws, naming the step.
    BatchFigures train_on_batch(const xt::xtensor<float, 2>& inputs, const xt::xtensor<float, 2>& targets) {
        const std::size_t batch = inputs.shape(0), width = targets.shape(1);
        detail::check_rows<Net>(batch, inputs.shape(1), width, "train_on_batch", "the batch's");
        if (targets.shape(0) != batch)
            throw std::invalid_argument("ctnn: train_on_batch: " + std::to_string(batch) + " inputs but " +
                                        std::to_string(targets.shape(0)) + " targets");
        const float* x = staging_.to_device(net_.backend(), inputs.data(), inputs.size());
        const float* t = staging_targets_.to_device(net_.backend(), targets.data(), targets.size());
        const auto& backend = net_.backend();
        if (flag_.size() == 0) {
            flag_.resize(1);
            state_backup_.resize(Net::state_count);
        }
        if constexpr (Net::state_count != 0)
            backend.copy(std::as_const(net_).state().data(), state_backup_.data(), Net::state_count);
        const detail::StepResult result =
            detail::train_step(net_, optimizer_, loss_, context_, x, t, batch, width, false, flag_.data());
        if (result.problem != detail::NonFinite::none) {
            if constexpr (Net::state_count != 0)
                backend.copy(std::as_const(state_backup_).data(), net_.state().data(), Net::state_count);
            throw std::runtime_error("ctnn: train_on_batch: a non-finite " +
                                     std::string(result.problem == detail::NonFinite::loss ? "loss" : "gradient") +
                                     " at step " + std::to_string(context_.step) +
                                     "; the weights are those of the step before");
        }
        ++context_.step;
        return {result.loss,
                float(double(result.correct) / double(batch * detail::OutputRows<Net>::per_sample))};
    }

    Opt& optimizer() { return optimizer_; }
    std::uint64_t step() const { return context_.step; }

private:
    Net& net_;
    Opt optimizer_;
    L loss_;
    Context context_;
    detail::Staging<typename Net::backend_type> staging_, staging_targets_;
    typename Net::backend_type::template buffer<double> flag_;
    typename Net::backend_type::template buffer<float> state_backup_;
};

} // namespace ctnn
