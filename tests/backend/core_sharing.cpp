#include <ctnn/backend/cpu/core_sharing.hpp>

#include <doctest/doctest.h>

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace backend_core_sharing_test {

using ctnn::backend::cpu::detail::threads_left;

TEST_CASE("the team takes the cores that other programs leave, at least one") {
    CHECK(threads_left(2, 1, 1) == 2);  // alone
    CHECK(threads_left(2, 3, 3) == 2);  // the caller and two spinning workers, all ours
    CHECK(threads_left(2, 3, 2) == 1);  // another program runs a thread
    CHECK(threads_left(2, 3, 1) == 1);  // another program runs two threads
    CHECK(threads_left(2, 9, 1) == 1);
    CHECK(threads_left(4, 3, 1) == 2);
    CHECK(threads_left(4, 1, 3) == 4);  // counts read a moment apart
    CHECK(threads_left(1, 5, 1) == 1);
}

TEST_CASE("a busy thread of this process is counted as running, in its own count and the system's") {
    std::atomic<bool> stop{false}, started{false};
    std::thread busy([&] {
        started = true;
        while (!stop.load(std::memory_order_relaxed)) {
        }
    });
    while (!started) std::this_thread::yield();
    const int own = ctnn::backend::cpu::detail::own_running_threads();
    const int system = ctnn::backend::cpu::detail::running_tasks();
    stop = true;
    busy.join();
    CHECK(own >= 2);  // this thread and the busy one
    CHECK(system >= 1);  // at least the thread that reads it
}

// Sets an environment variable for one scope, then puts back what was there.
class ScopedVariable {
public:
    ScopedVariable(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) setenv(name, value, 1);
        else unsetenv(name);
    }
    ~ScopedVariable() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST_CASE("the thread count: CTNN_NUM_THREADS, else OMP_NUM_THREADS, else the cores this process may use") {
    using ctnn::backend::cpu::detail::default_thread_count;
    const ScopedVariable no_ctnn("CTNN_NUM_THREADS", nullptr), no_omp("OMP_NUM_THREADS", nullptr);
    cpu_set_t all;
    REQUIRE(sched_getaffinity(0, sizeof all, &all) == 0);
    CHECK(default_thread_count() == CPU_COUNT(&all));
    {
        // As mpirun binds a process to one core.
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &all)) {
                CPU_SET(cpu, &one);
                break;
            }
        REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
        const int bound = default_thread_count();
        REQUIRE(sched_setaffinity(0, sizeof all, &all) == 0);
        CHECK(bound == 1);
    }
    {
        const ScopedVariable omp("OMP_NUM_THREADS", "3,1");
        CHECK(default_thread_count() == 3);
        const ScopedVariable ctnn("CTNN_NUM_THREADS", "5");
        CHECK(default_thread_count() == 5);
    }
    const ScopedVariable zero("CTNN_NUM_THREADS", "0");  // not a count: the next rule decides
    CHECK(default_thread_count() == CPU_COUNT(&all));
}

} // namespace backend_core_sharing_test
