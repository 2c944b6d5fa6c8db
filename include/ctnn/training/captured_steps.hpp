// fit()'s steps on a backend that captures graphs (CUDA; ThrustHost records
// the same way): one launch per training step instead of one per kernel.
//
// In every epoch each batch size's step runs once uncaptured (which sizes
// every workspace, and reads the epoch's learning rate), is then captured,
// and is replayed for the epoch's other batches of that size. The last,
// shorter batch of an epoch gets its own graph rather than being padded to
// the full size: padding would change BatchNorm's batch statistics and the
// mean over the batch, so every layer would need a mask to stay exact.
//
// Nothing inside a step waits for the device: the loss and the rows
// classified correctly add up in device memory (read by totals(), when the
// progress bar draws and at the end of the epoch), the dropout and noise
// step is a device counter (Context::device_step) and the optimizer keeps
// what changes per step there (Adam's t). A non-finite loss or gradient
// halts the update on the device (training/step.hpp); report() tells. The
// host gathers the next batch while the device runs the step, in the other
// of two staging buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/context.hpp"
#include "ctnn/optimizers/optimizer.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/step.hpp"

namespace ctnn::detail {

struct SetStep {
    std::uint64_t* step;
    std::uint64_t value;
    CTNN_HOST_DEVICE void operator()(std::size_t) const { *step = value; }
};

struct ClearTotals {
    double* totals;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { totals[i] = 0.0; }
};

struct ResetGuard {
    GuardSlots slots;
    CTNN_HOST_DEVICE void operator()(std::size_t) const {
        *slots.halted = 0;
        *slots.first_bad = ~std::uint64_t{0};
        *slots.skipped = 0;
    }
};

// What the device guard saw since the fit began: a halt (stop mode), the
// first bad step, and how many steps were skipped (skip mode).
struct GuardReport {
    NonFinite halted = NonFinite::none;
    std::uint64_t first_bad = ~std::uint64_t{0};
    std::uint64_t skipped = 0;
};

template <class Net, class Opt, class L>
class CapturedSteps {
    using Backend = typename Net::backend_type;

public:
    // skip_non_finite: a non-finite step is skipped (its update and its
    // running statistics undone) and training goes on; else the steps after
    // it change nothing, and fit stops when it reads the report.
    CapturedSteps(Net& net, Opt& optimizer, const L& loss, std::size_t target_width,
                  bool skip_non_finite = false)
        : net_(net), optimizer_(optimizer), loss_(loss), target_width_(target_width),
          skip_non_finite_(skip_non_finite),
          markers_{net.backend().make_marker(), net.backend().make_marker()} {
        totals_.resize(2);
        step_.resize(1);
        step_sums_.resize(2);
        halted_.resize(1);
        counters_.resize(2);
        state_backup_.resize(Net::state_count);
        backend().for_each(1, ResetGuard{guard()});
    }

    // `context` is fit's, its step the epoch's first. The graphs of the last
    // epoch go: the learning rate may have changed since they were captured.
    void begin_epoch(const Context& context) {
        graphs_.clear();
        context_ = context;
        context_.device_step = step_.data();
        backend().for_each(1, SetStep{step_.data(), context.step});
        backend().for_each(2, ClearTotals{totals_.data()});
    }

    // The staging buffer to gather the next batch in, once the copy out of
    // it (issued two batches ago) has run; staged() after its copies.
    typename staging_buffer<Backend>::type& next_staging() {
        markers_[next_ % 2].wait();
        return stagings_[next_ % 2];
    }
    void staged() { markers_[next_ % 2].record(); ++next_; }

    // One step on the batch at `inputs` and `targets` (the same device
    // buffers every step: a graph holds their addresses).
    void step(const float* inputs, const float* targets, std::size_t batch) {
        for (const Captured& captured : graphs_) {
            if (captured.batch != batch) continue;
            if (captured.inputs != inputs || captured.targets != targets)
                throw std::logic_error("ctnn: fit: a captured step's batch moved in device memory");
            captured.graph.launch();
            count_replays(optimizer_, 1);
            ++replayed_;
            return;
        }
        run(inputs, targets, batch);
        graphs_.push_back({batch, inputs, targets, backend().capture([&] { run(inputs, targets, batch); })});
        // The capture called the optimizer's step() without running a step.
        count_replays(optimizer_, -1);
    }

    // {sum over samples of the loss (penalty included), rows classified
    // correctly} since begin_epoch(); waits for the device.
    std::array<double, 2> totals() const {
        std::array<double, 2> host{};
        to_host_bytes(backend(), totals_.data(), host.data(), host.size());
        return host;
    }

    std::size_t replayed() const { return replayed_; }

    // Waits for the device.
    GuardReport report() const {
        std::uint32_t halted = 0;
        std::uint64_t counters[2] = {};
        to_host_bytes(backend(), halted_.data(), &halted, 1);
        to_host_bytes(backend(), counters_.data(), counters, 2);
        return {NonFinite(halted), counters[0], counters[1]};
    }
    // The running statistics as they were before the first bad step.
    void restore_state() {
        if constexpr (Net::state_count != 0)
            backend().copy(state_backup_.data(), net_.state().data(), Net::state_count);
    }

private:
    struct Captured {
        std::size_t batch;
        const float* inputs;
        const float* targets;
        typename Backend::graph graph;
    };

    const Backend& backend() const { return net_.backend(); }

    GuardSlots guard() {
        return {step_sums_.data(), halted_.data(), counters_.data(), counters_.data() + 1, state_backup_.data()};
    }

    void run(const float* inputs, const float* targets, std::size_t batch) {
        train_step_on_device(net_, optimizer_, loss_, context_, inputs, targets, batch, target_width_,
                             totals_.data(), step_.data(), guard(), skip_non_finite_);
    }

    Net& net_;
    Opt& optimizer_;
    const L& loss_;
    std::size_t target_width_;
    bool skip_non_finite_;
    Context context_{};
    typename Backend::template buffer<double> totals_, step_sums_;
    typename Backend::template buffer<std::uint64_t> step_, counters_;  // counters_: first bad, skipped
    typename Backend::template buffer<std::uint32_t> halted_;
    typename Backend::template buffer<float> state_backup_;
    std::array<typename staging_buffer<Backend>::type, 2> stagings_;
    std::array<typename Backend::marker, 2> markers_;
    std::size_t next_ = 0;
    std::vector<Captured> graphs_;
    std::size_t replayed_ = 0;
};

} // namespace ctnn::detail
