#include <ctnn/backend/cpu/core_sharing.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

namespace {

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

} // namespace
