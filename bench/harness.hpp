// Shared by every benchmark program (each one translation unit) (ctnn's and the anchors'): medians of
// repeated timings after warm-up, and one result line per figure, which
// bench/run gathers into the comparison table.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc_counter.hpp"

namespace bench {

// Median seconds per call of f over `repeats` timed calls, after `warmup` calls.
template <class F>
double median_seconds(F&& f, int warmup, int repeats) {
    for (int i = 0; i < warmup; ++i) f();
    std::vector<double> seconds(static_cast<std::size_t>(repeats));
    for (double& s : seconds) {
        auto start = std::chrono::steady_clock::now();
        f();
        s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::nth_element(seconds.begin(), seconds.begin() + repeats / 2, seconds.end());
    return seconds[static_cast<std::size_t>(repeats / 2)];
}

// "RESULT <workload> <value> <unit>": the line format bench/run reads.
inline void report(const char* workload, double value, const char* unit) {
    std::printf("RESULT %s %.6g %s\n", workload, value, unit);
    std::fflush(stdout);
}

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
