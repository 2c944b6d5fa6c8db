// fit(): mini-batch training with shuffling, validation, early stopping and a
// progress report. Runs are reproducible bit for bit on the CPU for a given
// seed: shuffling, dropout masks and noise all derive from it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <ostream>
#include <utility>
#include <vector>

#include "ctnn/core/network.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/data/stream.hpp"
#include "ctnn/distributed/communicator.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/optimizers/optimizer.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/captured_steps.hpp"
#include "ctnn/training/data_parallel.hpp"
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

enum class OnNonFinite { stop, skip_batch };

struct FitOptions {
    std::size_t epochs = 1;  // 0 trains nothing: an empty History, the weights untouched
    // Resuming from a checkpoint taken after this many epochs: the earlier
    // epochs only replay their shuffles and dropout steps, so the run goes on
    // exactly as an uninterrupted one would (Keras's initial_epoch).
    std::size_t initial_epoch = 0;
    std::size_t batch_size = 32;  // larger than the data set: one batch of all of it (as Keras)
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
    // Asked after each epoch's callbacks, on every process: true ends the run
    // there (Keras's callbacks that set model.stop_training), e.g. once a
    // validation accuracy is reached. History::stopped_early says so.
    std::function<bool(std::size_t epoch, const EpochRecord&)> stop_when = nullptr;
    // On a backend that captures graphs (CUDA), each batch size's training
    // step runs as one captured graph (training/captured_steps.hpp) when the
    // loss and the optimizer allow it (clipnorm does not: it reads norms
    // back); false runs every step uncaptured. The parameters are the same.
    bool capture_steps = true;
    // Scan every input (training and validation) for NaN and infinities
    // before training, naming the first one's row: one pass over the data.
    bool check_inputs = false;
    // A step whose loss or gradients are NaN or infinite changes nothing;
    // then fit stops (History::stop_reason says where) or skips the batch
    // (History::skipped_batches counts them).
    OnNonFinite on_non_finite = OnNonFinite::stop;
    // Data-parallel training over several processes (training/data_parallel.hpp
    // says how): batch_size is then each process's batch. Only rank 0 prints
    // and calls on_epoch_end (where checkpoints are written); every process
    // returns the same History. An exception on any process ends every
    // process with its message (Communicator::abort), so that none waits.
    // Steps are not captured as graphs.
    dist::DataParallel distributed = {};
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

// What fit checks of its training set before the first step; true when
// every target was checked (a stream's are checked batch by batch, by the loss).
template <class Net, class L>
bool check_training_set(const L& loss, const data::Dataset& train, const FitOptions& options) {
    check_dataset<Net>(train, "fit", "training");
    if (options.check_inputs) check_finite_inputs(train, "fit", "training");
    return check_targets<Net>(loss, train);
}
template <class Net, class L, data::BatchStream S>
bool check_training_set(const L&, const S& train, const FitOptions&) {
    check_rows<Net>(train.size(), train.input_width(), train.target_width(), "fit", "training");
    return false;
}

// One step's batch of the training set, this process's shard of it in the
// backend's memory: rows order[first + shard] of a data set, or the stream's
// next batch (every process draws the whole batch, to stay in step, and keeps
// its shard).
template <class Backend, class Staging>
void gather_training_batch(const Backend& backend, const data::Dataset& train, const std::size_t* order,
                           std::size_t, dist::Shard shard, float* inputs, float* targets, Staging& staging,
                           const FitOptions&) {
    if (shard.size() > 0) gather_batch(backend, train, order + shard.first, shard.size(), inputs, targets, staging);
}
template <class Backend, data::BatchStream S, class Staging>
void gather_training_batch(const Backend& backend, S& train, const std::size_t*, std::size_t batch,
                           dist::Shard shard, float* inputs, float* targets, Staging& staging,
                           const FitOptions& options) {
    const data::BatchRows rows = train.next_batch(batch);
    const std::size_t in = train.input_width(), out = train.target_width(), n = shard.size();
    if (options.check_inputs) check_finite_rows(rows.inputs, rows.count, in, "fit", "streamed training");
    const float* x = rows.inputs + shard.first * in;
    const float* t = rows.targets + shard.first * out;
    if constexpr (Backend::host_memory) {
        std::copy(x, x + n * in, inputs);
        std::copy(t, t + n * out, targets);
    } else {
        if (staging.size() < n * (in + out)) staging.resize(n * (in + out));
        std::copy(x, x + n * in, staging.data());
        std::copy(t, t + n * out, staging.data() + n * in);
        backend.to_device(staging.data(), inputs, n * in);
        backend.to_device(staging.data() + n * in, targets, n * out);
    }
}

// Stands in for CapturedSteps where steps cannot be captured.
struct NoCapturedSteps {};

// "ctnn: fit: a non-finite loss in epoch 3, batch 17 of 118 ...": `step`
// counts from the first epoch's first batch.
inline std::string non_finite_message(NonFinite problem, std::uint64_t step, std::size_t steps,
                                      const std::string& where) {
    return "ctnn: fit: a non-finite " + std::string(problem == NonFinite::loss ? "loss" : "gradient") +
           " in epoch " + std::to_string(step / steps + 1) + ", batch " + std::to_string(step % steps + 1) +
           " of " + std::to_string(steps) + where +
           "; training stopped, and the network keeps the weights of the last good step "
           "(FitOptions::on_non_finite = OnNonFinite::skip_batch skips such batches instead)";
}

// Where the gradients went non-finite: the first variable holding one.
template <class Net>
std::string first_non_finite_gradient(Net& net, NonFinite problem) {
    if (problem != NonFinite::gradients) return "";
    const std::vector<float> gradients = net.host_gradients();
    const auto bad = std::find_if(gradients.begin(), gradients.end(), [](float g) { return !std::isfinite(g); });
    const std::size_t at = std::size_t(bad - gradients.begin());
    for (const Variable& v : net.trainable().variables)
        if (at >= v.offset && at < v.offset + v.size) return " (first in " + v.path + ")";
    return "";
}

// The device guard's halt, as fit's message; empty while there is none.
template <class Captured>
std::string captured_halt(Captured& captured, const GuardReport& report, std::size_t steps) {
    if (report.halted == NonFinite::none) return "";
    captured.restore_state();
    return non_finite_message(report.halted, report.first_bad, steps, "");
}

template <class Net, class Opt, class L, class Train>
History fit_checked(Net& net, Opt& optimizer, const L& loss, Train& train, const FitOptions& options) {
    using Backend = typename Net::backend_type;
    const dist::Communicator* communicator = options.distributed.communicator;
    const std::size_t processes = communicator ? std::size_t(communicator->size()) : 1;
    const int rank = communicator ? communicator->rank() : 0;
    // Every target checked once here where it can be, so that no step scans them.
    const bool targets_checked = detail::check_training_set<Net>(loss, train, options);
    if (options.validation) {
        detail::check_dataset<Net>(*options.validation, "fit", "validation");
        if (options.check_inputs) detail::check_finite_inputs(*options.validation, "fit", "validation");
        detail::check_targets<Net>(loss, options.validation->get());
    }
    if (options.batch_size == 0) throw std::invalid_argument("ctnn: fit: batch_size must be > 0");

    constexpr bool can_capture =
        CapturesGraphs<Backend> && AccumulatingLoss<L, Backend> && CapturableOptimizer<Opt>;
    using Captured = std::conditional_t<can_capture, CapturedSteps<Net, Opt, L>, NoCapturedSteps>;
    std::optional<Captured> captured;
    const bool skip_non_finite = options.on_non_finite == OnNonFinite::skip_batch;
    if constexpr (can_capture)
        if (options.capture_steps && optimizer.capturable() && !communicator)
            captured.emplace(net, optimizer, loss, train.target_width(), skip_non_finite);

    constexpr std::size_t in = Net::input_shape::size;
    const std::size_t out = train.target_width();
    const std::size_t n = train.size();
    // Over every process; each takes its shard of it.
    const std::size_t batch_size = std::min(options.batch_size * processes, n);
    const std::size_t steps = (n + batch_size - 1) / batch_size;
    const std::size_t local_batch_size = (batch_size + processes - 1) / processes;
    std::size_t initial_epoch = options.initial_epoch;
    if (communicator) {
        detail::check_communicator_memory<Backend>(*communicator);
        detail::check_same_run(*communicator, {{"the parameter count", Net::param_count},
                                               {"the state count", Net::state_count},
                                               {"the training set's size", n},
                                               {"the input width", in},
                                               {"the target width", out},
                                               {"batch_size", options.batch_size},
                                               {"epochs", options.epochs},
                                               {"seed", options.seed},
                                               {"shuffle", options.shuffle},
                                               {"sync_batch_norm", options.distributed.sync_batch_norm}});
        detail::broadcast_start(*communicator, net, optimizer);
        std::uint64_t first_epoch = initial_epoch;
        communicator->host_broadcast(&first_epoch, sizeof first_epoch, 0);
        initial_epoch = std::size_t(first_epoch);
    }

    const Backend& backend = net.backend();
    net.reserve(local_batch_size);
    typename Backend::template buffer<float> batch_inputs, batch_targets;
    batch_inputs.resize(local_batch_size * in);
    batch_targets.resize(local_batch_size * out);
    typename detail::staging_buffer<Backend>::type staging;
    // The state before each uncaptured step, put back after a non-finite one.
    typename Backend::template buffer<float> state_backup;
    state_backup.resize(Net::state_count);
    typename Backend::template buffer<double> gradient_flag;
    gradient_flag.resize(1);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng shuffler(mix64(options.seed ^ 0x5eedULL));

    History history;
    Progress progress(*options.out, rank == 0 ? options.verbosity : Verbosity::silent, options.epochs, steps);
    Context context{Mode::training, options.seed, 0, 0};
    float best = std::numeric_limits<float>::infinity();
    std::size_t epochs_without_improvement = 0;
    detail::Snapshot best_weights;

    auto shuffle = [&] {
        if (options.shuffle && !data::BatchStream<Train>)
            for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffler.below(i + 1)]);
    };

    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        if (epoch < initial_epoch) {
            shuffle();
            context.step += steps;
            continue;
        }
        auto start = std::chrono::steady_clock::now();
        if constexpr (data::BatchStream<Train>) train.begin_epoch(epoch);
        progress.begin_epoch(epoch);
        if (options.learning_rate_schedule)
            optimizer.learning_rate = options.learning_rate_schedule(epoch, optimizer.learning_rate);
        shuffle();

        double loss_sum = 0.0;
        std::size_t correct_sum = 0, rows_seen = 0;
        std::string stopped_because;  // a non-finite step, in stop mode
        std::size_t skipped_samples = 0;  // in the batches skipped as non-finite
        if constexpr (can_capture)
            if (captured) captured->begin_epoch(context);
        for (std::size_t step = 0; step < steps && stopped_because.empty(); ++step) {
            std::size_t first = step * batch_size, batch = std::min(batch_size, n - first);
            rows_seen += batch * detail::OutputRows<Net>::per_sample;
            if constexpr (can_capture) {
                if (captured) {
                    detail::gather_training_batch(backend, train, order.data() + first, batch, {0, batch},
                                                  batch_inputs.data(), batch_targets.data(),
                                                  captured->next_staging(), options);
                    captured->staged();
                    captured->step(batch_inputs.data(), batch_targets.data(), batch);
                    ++context.step;
                    if (progress.draws(step + 1)) {
                        const auto totals = captured->totals();
                        progress.step(step + 1, float(totals[0] / double(first + batch)),
                                      float(totals[1] / double(rows_seen)));
                        stopped_because = captured_halt(*captured, captured->report(), steps);
                    }
                    continue;
                }
            }
            // This process's shard of the batch (all of it on one process).
            const dist::Shard shard = dist::shard_of(batch, rank, int(processes));
            if (communicator && options.distributed.sync_batch_norm && batch < processes) {
                // A process without samples cannot join BatchNorm's all-reduces.
                if constexpr (data::BatchStream<Train>) train.next_batch(batch);
                skipped_samples += batch;
                rows_seen -= batch * detail::OutputRows<Net>::per_sample;
                ++context.step;
                continue;
            }
            detail::gather_training_batch(backend, train, order.data() + first, batch, shard, batch_inputs.data(),
                                          batch_targets.data(), staging, options);
            if constexpr (Net::state_count != 0)
                backend.copy(std::as_const(net).state().data(), state_backup.data(), Net::state_count);
            StepResult result;
            if (communicator) {
                Context part = context;
                part.sample_offset = shard.first;
                part.global_batch = batch;
                part.batch_share = float(shard.size()) / float(batch);
                if (options.distributed.sync_batch_norm) part.batch_statistics = communicator;
                result = detail::data_parallel_step(*communicator, net, optimizer, loss, part, batch_inputs.data(),
                                                    batch_targets.data(), shard.size(), batch, out,
                                                    targets_checked, gradient_flag.data());
            } else {
                result = detail::train_step(net, optimizer, loss, context, batch_inputs.data(), batch_targets.data(),
                                            batch, out, targets_checked, gradient_flag.data());
            }
            if (result.problem != NonFinite::none) {
                // No update was made; the running statistics go back too.
                if constexpr (Net::state_count != 0)
                    backend.copy(state_backup.data(), net.state().data(), Net::state_count);
                if (skip_non_finite) {
                    ++history.skipped_batches;
                    skipped_samples += batch;
                    rows_seen -= batch * detail::OutputRows<Net>::per_sample;
                } else {
                    stopped_because = non_finite_message(result.problem, context.step, steps,
                                                         first_non_finite_gradient(net, result.problem));
                }
                ++context.step;
                continue;
            }
            ++context.step;
            loss_sum += double(result.loss) * double(batch);
            correct_sum += result.correct;
            progress.step(step + 1, float(loss_sum / double(first + batch - skipped_samples)),
                          float(double(correct_sum) / double(rows_seen)));
        }
        if constexpr (can_capture) {
            if (captured) {
                const auto totals = captured->totals();
                loss_sum = totals[0];
                correct_sum = std::size_t(totals[1]);
                history.replayed_steps = captured->replayed();
                const GuardReport report = captured->report();
                if (stopped_because.empty()) stopped_because = captured_halt(*captured, report, steps);
                const std::size_t skipped_before = history.skipped_batches;
                history.skipped_batches = std::size_t(report.skipped);
                // Exact unless the epoch's short last batch was among them.
                skipped_samples = (history.skipped_batches - skipped_before) * batch_size;
            }
        }

        if (communicator && !options.distributed.sync_batch_norm) detail::average_state(*communicator, net);

        EpochRecord record;
        // Skipped batches count in neither figure.
        record.loss = float(loss_sum / double(std::max<std::size_t>(n - std::min(n, skipped_samples), 1)));
        record.accuracy = float(double(correct_sum) / double(rows_seen));
        if (!stopped_because.empty()) {
            record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            history.epochs.push_back(record);
            history.stopped_early = true;
            history.stop_reason = stopped_because;
            progress.note(stopped_because);
            break;
        }
        if (options.validation && communicator) {
            std::tie(record.val_loss, record.val_accuracy) = detail::data_parallel_validation(
                *communicator, net, options.validation->get(), loss, local_batch_size);
        } else if (options.validation) {
            Evaluation score = evaluate(net, options.validation->get(), loss, batch_size);
            record.val_loss = score.loss;
            record.val_accuracy = score.accuracy;
        }
        record.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        history.epochs.push_back(record);
        progress.end_epoch(record);
        if (rank == 0)
            for (const auto& callback : options.on_epoch_end) callback(epoch, record);
        if (options.stop_when && options.stop_when(epoch, record)) {
            history.stopped_early = true;
            progress.note("stopped by stop_when after epoch " + std::to_string(epoch + 1));
            break;
        }

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

namespace detail {

template <class Net, class Opt, class L, class Train>
History fit_any(Net& net, Opt& optimizer, const L& loss, Train& train, const FitOptions& options) {
    using Backend = typename Net::backend_type;
    static_assert(Loss<L, Backend>, "ctnn: fit needs a loss (losses/loss.hpp lists what one "
                                    "provides); the notes name what is missing");
    static_assert(Optimizer<std::remove_cvref_t<Opt>, Backend>,
                  "ctnn: fit needs an optimizer (optimizers/optimizer.hpp lists what one "
                  "provides); the notes name what is missing");
    if constexpr (Loss<L, Backend> && Optimizer<std::remove_cvref_t<Opt>, Backend>) {
        if (!options.distributed) return fit_checked(net, optimizer, loss, train, options);
        try {
            return fit_checked(net, optimizer, loss, train, options);
        } catch (const std::exception& error) {
            options.distributed.communicator->abort(error.what());
            throw;  // not reached: abort() ends the process
        }
    } else {
        return {};
    }
}

} // namespace detail

template <class Net, class Opt, class L>
History fit(Net& net, Opt&& optimizer, const L& loss, const data::Dataset& train,
            const FitOptions& options = {}) {
    return detail::fit_any(net, optimizer, loss, train, options);
}

// Training on samples made on the fly (data/stream.hpp): each epoch is
// train.size() new samples, in the stream's order (FitOptions::shuffle has no
// effect); check_inputs checks each batch as it arrives.
template <class Net, class Opt, class L, data::BatchStream S>
History fit(Net& net, Opt&& optimizer, const L& loss, S& train, const FitOptions& options = {}) {
    return detail::fit_any(net, optimizer, loss, train, options);
}

} // namespace ctnn
