// Splits element-wise work over the threads OpenBLAS's OpenMP build already
// keeps, so that the passes between GEMMs do not leave a core idle. Each
// thread gets one contiguous, cache-line aligned range, so results do not
// depend on the thread count. Without OpenMP (-fopenmp) loops run serially.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ctnn::backend::cpu {

namespace detail {

// The loops' bodies reach their OpenMP regions through a function pointer:
// one region for all of them, and each body compiled once, not once for the
// team and once more for the calling thread (bench/compile/ctnn_mlp.cpp's
// object code shrank by 4.5%). An indirect call per thread costs nothing
// beside waking the team.
using RangeBody = void (*)(void* body, std::size_t begin, std::size_t end);
using TeamBody = void (*)(void* body, std::size_t thread, std::size_t threads);

template <class Body>
void* erased(Body& body) {
    return const_cast<void*>(static_cast<const void*>(std::addressof(body)));
}

inline void run_ranges(std::size_t n, std::size_t grain, std::size_t align, RangeBody run, void* body) {
#if defined(_OPENMP)
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads > 1 && n >= 2 * grain) {
#pragma omp parallel num_threads(threads)
        {
            const std::size_t count = std::size_t(omp_get_num_threads());
            const std::size_t index = std::size_t(omp_get_thread_num());
            const std::size_t chunk = ((n + count - 1) / count + align - 1) / align * align;
            const std::size_t begin = std::min(n, index * chunk);
            const std::size_t end = std::min(n, begin + chunk);
            if (begin < end) run(body, begin, end);
        }
        return;
    }
#else
    (void)grain;
    (void)align;
#endif
    run(body, 0, n);
}

inline void run_team(TeamBody run, void* body) {
#if defined(_OPENMP)
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        run(body, std::size_t(omp_get_thread_num()), std::size_t(omp_get_num_threads()));
        return;
    }
#endif
    run(body, 0, 1);
}

} // namespace detail

// Calls body(begin, end) over a partition of [0, n); ranges below `grain`
// elements run on the calling thread alone, where waking threads costs more
// than it saves. Each range but the last holds a multiple of `align`
// elements: 16 floats are a cache line, so that threads writing neighbouring
// ranges of floats do not share one; heavier items (rows, planes, blocks of
// channels) need no alignment, and aligning a few of them would leave
// threads idle.
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, Body&& body, std::size_t align = 16) {
    using Held = std::remove_reference_t<Body>;
    detail::run_ranges(n, grain, align,
                       [](void* held, std::size_t begin, std::size_t end) {
                           (*static_cast<Held*>(held))(begin, end);
                       },
                       detail::erased(body));
}

// Runs body(thread, threads) once on each thread of a team, for work that
// partitions itself (per-thread chunks of a batch, each with its own
// workspace); a call from inside a team runs body(0, 1) on the caller.
template <class Body>
void parallel_threads(Body&& body) {
    using Held = std::remove_reference_t<Body>;
    detail::run_team(
        [](void* held, std::size_t thread, std::size_t threads) {
            (*static_cast<Held*>(held))(thread, threads);
        },
        detail::erased(body));
}

// Waits for every thread of the team that parallel_threads() runs; outside
// a team it returns at once.
inline void team_barrier() {
#if defined(_OPENMP)
#pragma omp barrier
#endif
}

// The threads parallel_threads() runs on.
inline std::size_t thread_count() {
#if defined(_OPENMP)
    return omp_in_parallel() ? 1 : std::size_t(omp_get_max_threads());
#else
    return 1;
#endif
}

// Thread `index` of `count`'s share of [0, n): contiguous, sizes differing by
// at most one, the larger shares first.
struct Share {
    std::size_t begin, end;
};
constexpr Share share_of(std::size_t n, std::size_t index, std::size_t count) {
    const std::size_t base = n / count, extra = n % count;
    const std::size_t begin = index * base + std::min(index, extra);
    return {begin, begin + base + (index < extra ? 1 : 0)};
}

// Below this many elements an element-wise pass stays on one thread.
inline constexpr std::size_t parallel_grain = 16384;

} // namespace ctnn::backend::cpu
