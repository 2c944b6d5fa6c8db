// Random numbers that are the same on every platform, compiler and backend.
//
// std::normal_distribution and friends are implementation-defined, so runs
// would differ between libstdc++ and libc++; these are specified here.
// Per-element noise (dropout masks, Gaussian noise) is counter-based: element i
// of step s gets mix(key, i) with key derived from (seed, layer, step), so any
// thread or GPU lane can compute its own value without shared state.
#pragma once

#include <cmath>
#include <cstdint>

#include "ctnn/core/config.hpp"
#include "ctnn/core/fast_math.hpp"

namespace ctnn {

// SplitMix64's finaliser: a bijective hash with good avalanche.
CTNN_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

CTNN_HOST_DEVICE constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t stream,
                                                    std::uint64_t step) {
    return mix64(mix64(seed ^ mix64(stream)) ^ step);
}

// The key of one layer's draws in one training step. The step is read where
// the kernel runs when it lives in device memory: a captured training step
// (a CUDA graph) advances its counter on the device, so a replayed step
// draws new numbers, the ones the uncaptured step would have drawn.
struct StepKey {
    std::uint64_t fixed;  // stream_key(seed, stream, step) when the step is a host value
    std::uint64_t seed, stream;
    const std::uint64_t* device_step;
    CTNN_HOST_DEVICE std::uint64_t operator()() const {
        return device_step ? stream_key(seed, stream, *device_step) : fixed;
    }
};

// A step's key that is a host value.
struct FixedKey {
    std::uint64_t value;
    CTNN_HOST_DEVICE std::uint64_t operator()() const { return value; }
};

// f(key) with a StepKey that reads the device's step, else with the
// FixedKey: a per-index conditional read of the counter kept the noise and
// dropout loops scalar (Gaussian noise was 3.8% of seed 003's CNN training
// step on a Zen 4).
template <class F>
void with_step_key(const StepKey& key, F&& f) {
    if (key.device_step)
        f(key);
    else
        f(FixedKey{key.fixed});
}

// Uniform in [0, 1) with 24 random bits: every value is exact in float.
// The bits go to float through a signed 32-bit integer (the same value):
// AVX2 converts only those, and a dropout mask's loop stayed scalar on a
// Zen 3 (6x slower) with an unsigned 64-bit conversion.
CTNN_HOST_DEVICE constexpr float uniform_at(std::uint64_t key, std::uint64_t index) {
    return static_cast<float>(static_cast<std::int32_t>(mix64(key ^ mix64(index)) >> 40)) * 0x1p-24f;
}

// Standard normal by Box-Muller over two uniforms; u1 is kept away from 0.
CTNN_HOST_DEVICE inline float normal_at(std::uint64_t key, std::uint64_t index) {
    float u1 = uniform_at(key, 2 * index) + 0x1p-25f;
    float u2 = uniform_at(key, 2 * index + 1);
    return std::sqrt(-2.0f * fast::log(u1)) * fast::cos_turns(u2);
}

// A sequential generator for weight initialisation and shuffling.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : key_(mix64(seed)) {}

    std::uint64_t next() { return mix64(key_ ^ mix64(counter_++)); }
    float uniform() { return static_cast<float>(next() >> 40) * 0x1p-24f; }
    float uniform(float low, float high) { return low + (high - low) * uniform(); }
    float normal() {
        float u1 = uniform() + 0x1p-25f;
        float u2 = uniform();
        return std::sqrt(-2.0f * fast::log(u1)) * fast::cos_turns(u2);
    }
    // Uniform integer in [0, bound) without modulo bias worth mentioning for
    // bounds far below 2^64 (Lemire's multiply-shift).
    std::uint64_t below(std::uint64_t bound) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
    }

private:
    std::uint64_t key_;
    std::uint64_t counter_ = 0;
};

} // namespace ctnn
