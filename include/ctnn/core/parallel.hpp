// Splits element-wise work over the threads OpenBLAS's OpenMP build already
// keeps, so that the passes between GEMMs do not leave a core idle. Each
// thread gets one contiguous, cache-line aligned range, so results do not
// depend on the thread count. Without OpenMP (-fopenmp) loops run serially.
#pragma once

#include <algorithm>
#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ctnn {

// Calls body(begin, end) over a partition of [0, n); ranges below `grain`
// elements run on the calling thread alone, where waking threads costs more
// than it saves.
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, Body&& body) {
#if defined(_OPENMP)
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads > 1 && n >= 2 * grain) {
#pragma omp parallel num_threads(threads)
        {
            constexpr std::size_t align = 16;  // floats per cache line
            const std::size_t count = std::size_t(omp_get_num_threads());
            const std::size_t index = std::size_t(omp_get_thread_num());
            const std::size_t chunk = ((n + count - 1) / count + align - 1) / align * align;
            const std::size_t begin = std::min(n, index * chunk);
            const std::size_t end = std::min(n, begin + chunk);
            if (begin < end) body(begin, end);
        }
        return;
    }
#else
    (void)grain;
#endif
    body(std::size_t{0}, n);
}

// Below this many elements an element-wise pass stays on one thread.
inline constexpr std::size_t parallel_grain = 16384;

} // namespace ctnn
