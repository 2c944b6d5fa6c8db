// Shared by every CPU benchmark program (each one translation unit), ctnn's
// and the anchors': timing.hpp's medians and result lines, and the heap
// allocations a step makes.
#pragma once

#include <string>

#include "alloc_counter.hpp"
#include "timing.hpp"

namespace bench {

// Times one training step at `batch_size` and reports the throughput as
// mlp_train_b<batch_size>; for the batch-512 run also the heap allocations a
// step makes once warm (bench::allocations, from alloc_counter.hpp).
template <class Step>
void report_training(std::size_t batch_size, Step&& step, int warmup, int repeats) {
    double seconds = median_seconds(step, warmup, repeats);
    std::string key = "mlp_train_b" + std::to_string(batch_size);
    report(key.c_str(), double(batch_size) / seconds, "samples/s");
    if (batch_size == 512) report("allocations_per_train_step", allocations_per_call(step), "count");
}

} // namespace bench
