// fit(): mini-batch training with shuffling, validation, early stopping and a
// progress report. Runs are reproducible bit for bit on the CPU for a given
// seed: shuffling, dropout masks and noise all derive from it.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>
#include <ostream>
#include <utility>
#include <vector>

#include "ctnn/core/network.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/optimizers/optimizer.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/captured_steps.hpp"
#include "ctnn/training/evaluate.hpp"
#include "ctnn/training/history.hpp"
#include "ctnn/training/progress.hpp"
#include "ctnn/training/schedules.hpp"
#include "ctnn/training/step.hpp"

namespace ctnn {

// Stops when the monitored validation figure has not improved by min_delta
// for `patience` epochs, and by default puts back the best epoch's weights.
struct EarlyStopping {
    enum class Monitor { val_loss, val_accuracy, loss };
    Monitor monitor = Monitor::val_loss;
    std::size_t patience = 5;
    float min_delta = 0.0f;
    bool restore_best_weights = true;
};

struct FitOptions {
    std::size_t epochs = 1;
    // Resuming from a checkpoint taken after this many epochs: the earlier
    // epochs only replay their shuffles and dropout steps, so the run goes on
    // exactly as an uninterrupted one would (Keras's initial_epoch).
    std::size_t initial_epoch = 0;
    std::size_t batch_size = 32;
    std::optional<std::reference_wrapper<const data::Dataset>> validation = std::nullopt;
    std::uint64_t seed = 0;
    bool shuffle = true;
    std::optional<EarlyStopping> early_stopping = std::nullopt;
    LearningRateSchedule learning_rate_schedule = nullptr;
    Verbosity verbosity = Verbosity::automatic;
    std::ostream* out = &std::cout;
    // Called after each epoch (counted from 0) with its record, before early
    // stopping may end the run: io/model_checkpoint.hpp's ModelCheckpoint is one.
    std::vector<std::function<void(std::size_t epoch, const EpochRecord&)>> on_epoch_end = {};
    // On a backend that captures graphs (CUDA), each batch size's training
    // step runs as one captured graph (training/captured_steps.hpp) when the
    // loss and the optimizer allow it (clipnorm does not: it reads norms
    // back); false runs every step uncaptured. The parameters are the same.
    bool capture_steps = true;
};

namespace detail {

inline float monitored(const EpochRecord& r, EarlyStopping::Monitor monitor) {
    switch (monitor) {
    case EarlyStopping::Monitor::val_loss: return r.val_loss;
    case EarlyStopping::Monitor::val_accuracy: return -r.val_accuracy;
    case EarlyStopping::Monitor::loss: return r.loss;
    }
    return r.loss;
}

// The weights (and state) of the best epoch, on the host, for early stopping.
struct Snapshot {
    std::vector<float> parameters, state;

    template <class Net>
    void take(const Net& net) {
        parameters.resize(net.parameters().size());
        state.resize(net.state().size());
        net.backend().to_host(net.parameters().data(), parameters.data(), parameters.size());
        net.backend().to_host(net.state().data(), state.data(), state.size());
    }
    template <class Net>
    void restore(Net& net) const {
        net.backend().to_device(parameters.data(), net.parameters().data(), parameters.size());
        net.backend().to_device(state.data(), net.state().data(), state.size());
    }
};

// Stands in for CapturedSteps where steps cannot be captured.
struct NoCapturedSteps {};

template <class Net, class Opt, class L>
History fit_checked(Net& net, Opt& optimizer, const L& loss, const data::Dataset& train,
                    const FitOptions& options) {
    using Backend = typename Net::backend_type;
    detail::check_dataset<Net>(train, "fit", "training");
    if (options.validation) detail::check_dataset<Net>(*options.validation, "fit", "validation");
    if (options.batch_size == 0) throw std::invalid_argument("ctnn: fit: batch_size must be > 0");
    // Every target checked once here, so that no step scans them.
    const bool targets_checked = detail::check_targets<Net>(loss, train);
    if (options.validation) detail::check_targets<Net>(loss, options.validation->get());

    constexpr bool can_capture =
        CapturesGraphs<Backend> && AccumulatingLoss<L, Backend> && CapturableOptimizer<Opt>;
    using Captured = std::conditional_t<can_capture, CapturedSteps<Net, Opt, L>, NoCapturedSteps>;
    std::optional<Captured> captured;
    if constexpr (can_capture)
        if (options.capture_steps && optimizer.capturable())
            captured.emplace(net, optimizer, loss, train.target_width());

    constexpr std::size_t in = Net::input_shape::size;
    const std::size_t out = train.target_width();
    const std::size_t n = train.size();
    const std::size_t batch_size = std::min(options.batch_size, n);
    const std::size_t steps = (n + batch_size - 1) / batch_size;

    const Backend& backend = net.backend();
    net.reserve(batch_size);
    typename Backend::template buffer<float> batch_inputs, batch_targets;
    batch_inputs.resize(batch_size * in);
    batch_targets.resize(batch_size * out);
    typename detail::staging_buffer<Backend>::type staging;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng shuffler(mix64(options.seed ^ 0x5eedULL));

    History history;
    Progress progress(*options.out, options.verbosity, options.epochs, steps);
    Context context{Mode::training, options.seed, 0, 0};
    float best = std::numeric_limits<float>::infinity();
    std::size_t epochs_without_improvement = 0;
    detail::Snapshot best_weights;

    auto shuffle = [&] {
        if (options.shuffle)
            for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffler.below(i + 1)]);
    };

    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        if (epoch < options.initial_epoch) {
            shuffle();
            context.step += steps;
            continue;
        }
        auto start = std::chrono::steady_clock::now();
        progress.begin_epoch(epoch);
        if (options.learning_rate_schedule)
            optimizer.learning_rate = options.learning_rate_schedule(epoch, optimizer.learning_rate);
        shuffle();

        double loss_sum = 0.0;
        std::size_t correct_sum = 0, rows_seen = 0;
        if constexpr (can_capture)
            if (captured) captured->begin_epoch(context);
        for (std::size_t step = 0; step < steps; ++step) {
            std::size_t first = step * batch_size, batch = std::min(batch_size, n - first);
            rows_seen += batch * detail::OutputRows<Net>::per_sample;
            if constexpr (can_capture) {
                if (captured) {
                    detail::gather_batch(backend, train, order.data() + first, batch, batch_inputs.data(),
                                         batch_targets.data(), captured->next_staging());
                    captured->staged();
                    captured->step(batch_inputs.data(), batch_targets.data(), batch);
                    ++context.step;
                    if (progress.draws(step + 1)) {
                        const auto totals = captured->totals();
                        progress.step(step + 1, float(totals[0] / double(first + batch)),
                                      float(totals[1] / double(rows_seen)));
                    }
                    continue;
                }
            }
            detail::gather_batch(backend, train, order.data() + first, batch, batch_inputs.data(),
                                 batch_targets.data(), staging);
            std::size_t correct = 0;
            float value = detail::train_step(net, optimizer, loss, context, batch_inputs.data(),
                                             batch_targets.data(), batch, out, correct, targets_checked);
            ++context.step;
            loss_sum += double(value) * double(batch);
            correct_sum += correct;
            progress.step(step + 1, float(loss_sum / double(first + batch)),
                          float(double(correct_sum) / double(rows_seen)));
        }
        if constexpr (can_capture) {
            if (captured) {
                const auto totals = captured->totals();
                loss_sum = totals[0];
                correct_sum = std::size_t(totals[1]);
                history.replayed_steps = captured->replayed();
            }
        }

        EpochRecord record;
        record.loss = float(loss_sum / double(n));
        record.accuracy = float(double(correct_sum) / double(rows_seen));
        if (options.validation) {
            Evaluation score = evaluate(net, options.validation->get(), loss, batch_size);
            record.val_loss = score.loss;
            record.val_accuracy = score.accuracy;
        }
        record.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        history.epochs.push_back(record);
        progress.end_epoch(record);
        for (const auto& callback : options.on_epoch_end) callback(epoch, record);

        if (options.early_stopping) {
            const EarlyStopping& rule = *options.early_stopping;
            float figure = detail::monitored(record, rule.monitor);
            if (std::isnan(figure))
                throw std::invalid_argument(
                    "ctnn: fit: early stopping monitors a validation figure but no validation "
                    "set was given");
            if (figure < best - rule.min_delta) {
                best = figure;
                epochs_without_improvement = 0;
                if (rule.restore_best_weights) best_weights.take(std::as_const(net));
            } else if (++epochs_without_improvement >= rule.patience) {
                history.stopped_early = true;
                if (rule.restore_best_weights && !best_weights.parameters.empty())
                    best_weights.restore(net);
                progress.note("early stopping after epoch " + std::to_string(epoch + 1));
                break;
            }
        }
    }
    return history;
}

} // namespace detail

template <class Net, class Opt, class L>
History fit(Net& net, Opt&& optimizer, const L& loss, const data::Dataset& train,
            const FitOptions& options = {}) {
    using Backend = typename Net::backend_type;
    static_assert(Loss<L, Backend>, "ctnn: fit needs a loss (losses/loss.hpp lists what one "
                                    "provides); the notes name what is missing");
    static_assert(Optimizer<std::remove_cvref_t<Opt>, Backend>,
                  "ctnn: fit needs an optimizer (optimizers/optimizer.hpp lists what one "
                  "provides); the notes name what is missing");
    if constexpr (Loss<L, Backend> && Optimizer<std::remove_cvref_t<Opt>, Backend>)
        return detail::fit_checked(net, optimizer, loss, train, options);
    else
        return {};
}

} // namespace ctnn
