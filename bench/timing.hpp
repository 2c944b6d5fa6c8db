// Timing and the result lines every benchmark program prints; bench/run and
// bench/gpu gather the lines into their tables. Safe to include from several
// translation units (harness.hpp, which counts allocations, is not).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

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

// Calls per second of f, calling it for `seconds` after one second of warm-up:
// a throughput that spans whatever else the machine does meanwhile
// (bench/contention runs two programs at once).
template <class F>
double calls_per_second(F&& f, double seconds) {
    using clock = std::chrono::steady_clock;
    for (auto end = clock::now() + std::chrono::seconds(1); clock::now() < end;) f();
    const auto start = clock::now();
    long calls = 0;
    double elapsed = 0.0;
    do {
        f();
        ++calls;
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < seconds);
    return double(calls) / elapsed;
}

// "RESULT <workload> <value> <unit>": the line format bench/run reads.
inline void report(const char* workload, double value, const char* unit) {
    std::printf("RESULT %s %.6g %s\n", workload, value, unit);
    std::fflush(stdout);
}

} // namespace bench
