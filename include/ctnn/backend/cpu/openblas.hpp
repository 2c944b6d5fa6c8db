// OpenBLAS, loaded at run time so that ctnn can choose its kernel first.
//
// OpenBLAS picks its CPU kernels once, in the library's load-time constructor,
// and Debian's 0.3.21 misdetects some AVX-512 CPUs (Sapphire Rapids) as
// "Prescott", running sgemm 4-7x slower. OPENBLAS_CORETYPE overrides the choice
// but is read only at load time, which for a linked library is before main().
// Loading the library with dlopen() lets ctnn set it just before, without
// asking users to export anything.
#pragma once

#include <dlfcn.h>
#if defined(__linux__)
#include <sched.h>
#endif

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ctnn::backend::cpu {

struct BlasInfo {
    std::string library;    // the file that was loaded
    std::string core;       // OpenBLAS's kernel family, e.g. "SkylakeX"
    std::string config;     // OpenBLAS's build configuration string
    std::string threading;  // "sequential", "pthreads" or "OpenMP"
    int threads = 1;
    bool core_forced = false;  // ctnn set OPENBLAS_CORETYPE before loading
};

namespace detail {

// How many threads OpenBLAS and ctnn's loops use: CTNN_NUM_THREADS, else
// OMP_NUM_THREADS (its first level), else the cores this process may run on.
// The last is its affinity, not the machine's count: mpirun binds each
// process to its own cores, and a team of two on one core spins against
// itself. libgomp sizes its default team the same way.
inline int default_thread_count() {
    for (const char* name : {"CTNN_NUM_THREADS", "OMP_NUM_THREADS"})
        if (const char* chosen = std::getenv(name)) {
            const int threads = std::atoi(chosen);
            if (threads > 0) return threads;
        }
#if defined(__linux__)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0)
        return CPU_COUNT(&allowed);
#endif
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? static_cast<int>(cores) : 1;
}

} // namespace detail

class OpenBlas {
public:
    // The process-wide instance, loaded on first use.
    static OpenBlas& instance() {
        static OpenBlas blas;
        return blas;
    }

    // Row-major C = alpha * op(A) * op(B) + beta * C.
    void sgemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha,
               const float* a, int lda, const float* b, int ldb, float beta, float* c,
               int ldc) const {
        constexpr int row_major = 101, no_trans = 111, trans = 112;
        sgemm_(row_major, transpose_a ? trans : no_trans, transpose_b ? trans : no_trans, m, n,
               k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    void set_threads(int threads) { set_threads_(threads); }
    const BlasInfo& info() const { return info_; }

    OpenBlas(const OpenBlas&) = delete;
    OpenBlas& operator=(const OpenBlas&) = delete;

private:
    using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int,
                              const float*, int, float, float*, int);

    OpenBlas() {
        info_.core_forced = choose_core_type();
        std::string tried;
        for (const std::string& path : candidate_paths()) {
            handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (handle_) {
                info_.library = path;
                break;
            }
            tried += "\n  " + path + ": " + dlerror();
        }
        if (!handle_)
            throw std::runtime_error(
                "ctnn: cannot load OpenBLAS; install Debian's libopenblas0-openmp (scripts/setup "
                "does) or set CTNN_OPENBLAS to the library's path. Tried:" + tried);
        sgemm_ = symbol<sgemm_fn>("cblas_sgemm");
        set_threads_ = symbol<void (*)(int)>("openblas_set_num_threads");
        info_.core = symbol<char* (*)()>("openblas_get_corename")();
        info_.config = symbol<char* (*)()>("openblas_get_config")();
        int parallel = symbol<int (*)()>("openblas_get_parallel")();
        info_.threading = parallel == 2 ? "OpenMP" : parallel == 1 ? "pthreads" : "sequential";
        info_.threads = detail::default_thread_count();
        set_threads_(info_.threads);
    }

    template <class Fn>
    Fn symbol(const char* name) const {
        void* address = dlsym(handle_, name);
        if (!address)
            throw std::runtime_error("ctnn: " + info_.library + " has no symbol " + name +
                                     "; is it OpenBLAS?");
        return reinterpret_cast<Fn>(address);
    }

    // Sets OPENBLAS_CORETYPE for the load when the CPU has AVX-512 and the user
    // has not chosen. SkylakeX is OpenBLAS's AVX-512 sgemm kernel; on CPUs that
    // OpenBLAS does detect (Cooperlake, Zen 4) it runs at the same speed.
    static bool choose_core_type() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (std::getenv("OPENBLAS_CORETYPE")) return false;
        __builtin_cpu_init();
        bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
        if (!avx512) return false;
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
        return true;
#else
        return false;
#endif
    }

    // The OpenMP build first: on small training GEMMs its threads wake faster
    // than the pthread build's (bench/ measures both).
    static std::vector<std::string> candidate_paths() {
        if (const char* chosen = std::getenv("CTNN_OPENBLAS")) return {chosen};
#if defined(__x86_64__)
        const std::string multiarch = "/usr/lib/x86_64-linux-gnu/";
#elif defined(__aarch64__)
        const std::string multiarch = "/usr/lib/aarch64-linux-gnu/";
#else
        const std::string multiarch = "/usr/lib/";
#endif
        return {multiarch + "openblas-openmp/libopenblas.so.0",
                multiarch + "openblas-pthread/libopenblas.so.0", "libopenblas.so.0",
                "libopenblas.so"};
    }

    void* handle_ = nullptr;
    sgemm_fn sgemm_ = nullptr;
    void (*set_threads_)(int) = nullptr;
    BlasInfo info_;
};

inline const BlasInfo& blas_info() { return OpenBlas::instance().info(); }

} // namespace ctnn::backend::cpu
