// Sharing the cores with other busy programs.
//
// libgomp's threads spin about 300,000 times at a barrier before they sleep
// (GOMP_SPINCOUNT), and libgomp reads that setting once, when the program
// starts, before any header of a library can change it. When another program
// keeps the cores busy, a team of two threads on two shared cores waits at
// every barrier for a thread that is not running while its partner spins:
// two ctnn trainings at once ran 8x slower per step each. So between training
// steps ctnn counts the running threads that are not its own (the kernel's
// count of runnable tasks in /proc/loadavg, less this process's running
// threads in /proc/self/task) and runs its team, and OpenBLAS's, on the cores
// left free, at least one; a team of one never waits at a barrier. The count
// is read at most every 100 ms (about 80 us each time), and the team shrinks
// only when two readings in a row ask for it, so a training alone loses
// nothing measurable (bench/contention reports its steps on one thread). The
// thread count then follows the machine's load, and with it the rounding of
// sums that depend on it: CTNN_SHARE_CORES=0 keeps runs bit for bit alike.
//
// The user's own choice wins: with OMP_WAIT_POLICY or GOMP_SPINCOUNT set, or
// CTNN_SHARE_CORES=0, ctnn keeps the thread count it started with.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/backend/cpu/openblas.hpp"

namespace ctnn::backend::cpu {

namespace detail {

// A small /proc file's text in `buffer` (null-terminated; empty when it
// cannot be read). The check runs between training steps, which allocate
// nothing, so it reads into the caller's stack.
template <std::size_t N>
std::string_view read_small_file(const char* path, char (&buffer)[N]) {
    buffer[0] = '\0';
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    const ssize_t got = ::read(fd, buffer, N - 1);
    ::close(fd);
    if (got <= 0) return {};
    buffer[got] = '\0';
    return {buffer, std::size_t(got)};
}

// Runnable tasks in the whole system: the fourth field of /proc/loadavg is
// "running/total". -1 when unknown.
inline int running_tasks() {
    char buffer[128];
    const std::string_view text = read_small_file("/proc/loadavg", buffer);
    std::size_t field = 0, at = 0;
    while (field < 3 && (at = text.find(' ', at)) != std::string_view::npos) ++field, ++at;
    if (field < 3) return -1;
    return std::atoi(buffer + at);
}

// This process's threads in state R (running or runnable). The state follows
// the command name, which is in parentheses and may itself hold ')'. The
// directory is listed with getdents64 into a stack buffer: opendir would
// allocate its own.
inline int own_running_threads() {
    const int tasks = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tasks < 0) return 1;
    int running = 0;
    alignas(dirent64) char entries[4096];
    ssize_t got;
    while ((got = ::getdents64(tasks, entries, sizeof entries)) > 0) {
        for (ssize_t at = 0; at < got;) {
            const auto* entry = reinterpret_cast<const dirent64*>(entries + at);
            at += entry->d_reclen;
            if (entry->d_name[0] == '.') continue;
            char path[sizeof entry->d_name + 32], stat[512];  // a thread id, in fact: a few digits
            std::snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
            const std::string_view text = read_small_file(path, stat);
            const std::size_t close = text.rfind(')');
            if (close != std::string_view::npos && close + 2 < text.size() && text[close + 2] == 'R') ++running;
        }
    }
    ::close(tasks);
    return std::max(running, 1);  // the caller is running
}

// Of `most` threads, those the cores leave once the running tasks other than
// this process's are served: at least one.
constexpr int threads_left(int most, int running_tasks, int own_running) {
    const int others = std::max(0, running_tasks - own_running);
    return std::clamp(most - others, 1, std::max(most, 1));
}

} // namespace detail

class CoreSharing {
public:
    static CoreSharing& instance() {
        static CoreSharing sharing;
        return sharing;
    }

    // Called between steps, never inside one: a step sizes its per-thread
    // work once, from thread_count().
    void between_steps() {
        if (!enabled_) return;
        // One checker at a time, when fit runs in several threads at once.
        const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
        std::int64_t last = last_check_ms_.load(std::memory_order_relaxed);
        if (now - last < 100 || !last_check_ms_.compare_exchange_strong(last, now)) return;
        const int total = detail::running_tasks();
        if (total < 0) return;
        const int wanted = detail::threads_left(most_, total, detail::own_running_threads());
        // A smaller team only when two checks in a row ask for it: a daemon
        // waking for a few milliseconds is no reason to halve a training.
        const int previous = last_wanted_.exchange(wanted, std::memory_order_relaxed);
        if (wanted < current_.load() && previous != wanted) return;
        set_threads(wanted);
    }

    // The threads a step may use now.
    int threads() const { return current_.load(); }

private:
    CoreSharing() : most_(OpenBlas::instance().info().threads), current_(most_) {
        const char* share = std::getenv("CTNN_SHARE_CORES");
        enabled_ = most_ > 1 && !std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT") &&
                   !(share && std::strcmp(share, "0") == 0);
    }

    void set_threads(int threads) {
        if (current_.exchange(threads) == threads) return;
        OpenBlas::instance().set_threads(threads);
#if defined(_OPENMP)
        omp_set_num_threads(threads);  // ctnn's own teams (OpenBLAS's pthread build leaves it)
#endif
    }

    int most_;
    std::atomic<int> current_;
    bool enabled_ = false;
    std::atomic<std::int64_t> last_check_ms_{-1000};
    std::atomic<int> last_wanted_{0};
};

} // namespace ctnn::backend::cpu
