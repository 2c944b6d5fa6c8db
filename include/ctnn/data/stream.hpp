// A training set made on the fly (Keras's fit(generator, steps_per_epoch)):
// `size` samples an epoch, sample i of epoch e written by a function of (e, i)
// alone. fit() takes any BatchStream in place of a Dataset; GeneratedStream
// is one that makes the next batch on a background thread while the network
// trains on the current one, so an epoch is never held in memory.
#pragma once

#include <algorithm>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ctnn::data {

// `count` consecutive samples on the host, rows of inputs and of targets.
struct BatchRows {
    const float* inputs = nullptr;
    const float* targets = nullptr;
    std::size_t count = 0;
};

// What fit() asks of a stream: the epoch's size and row widths; begin_epoch
// starts epoch e at its first sample, and next_batch(n) hands over its next n
// samples, valid until the following call. Streams are not shuffled: their
// samples are new ones.
template <class S>
concept BatchStream = requires(S& stream, const S& seen, std::size_t n) {
    { seen.size() } -> std::convertible_to<std::size_t>;
    { seen.input_width() } -> std::convertible_to<std::size_t>;
    { seen.target_width() } -> std::convertible_to<std::size_t>;
    stream.begin_epoch(n);
    { stream.next_batch(n) } -> std::same_as<BatchRows>;
};

// Make(epoch, index, inputs, targets) writes one sample's input_width and
// target_width values; it runs on the stream's own thread, so it must not
// touch what the caller changes meanwhile.
template <class Make>
class GeneratedStream {
public:
    GeneratedStream(std::size_t size, std::size_t input_width, std::size_t target_width, Make make)
        : size_(size), input_width_(input_width), target_width_(target_width), make_(std::move(make)) {
        if (size == 0 || input_width == 0 || target_width == 0)
            throw std::invalid_argument("ctnn: GeneratedStream needs samples (" + std::to_string(size) +
                                        " an epoch), inputs (" + std::to_string(input_width) +
                                        " values) and targets (" + std::to_string(target_width) + " values)");
        worker_ = std::thread([this] { work(); });
    }
    GeneratedStream(const GeneratedStream&) = delete;
    GeneratedStream& operator=(const GeneratedStream&) = delete;
    ~GeneratedStream() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        worker_.join();
    }

    std::size_t size() const { return size_; }
    std::size_t input_width() const { return input_width_; }
    std::size_t target_width() const { return target_width_; }

    void begin_epoch(std::size_t epoch) {
        epoch_ = epoch;
        position_ = 0;
    }

    BatchRows next_batch(std::size_t count) {
        if (count == 0 || position_ + count > size_)
            throw std::invalid_argument("ctnn: GeneratedStream: a batch of " + std::to_string(count) +
                                        " from sample " + std::to_string(position_) + " of an epoch of " +
                                        std::to_string(size_));
        const Job wanted{epoch_, position_, count};
        std::unique_lock lock(mutex_);
        // The batch made ahead is this one unless the caller changed course.
        const int slot = 1 - current_;
        if (!(jobs_[slot] == wanted)) {
            changed_.wait(lock, [&] { return !busy_; });
            jobs_[slot] = wanted;
            done_[slot] = false;
            changed_.notify_all();
        }
        changed_.wait(lock, [&] { return done_[slot] || failure_; });
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
        current_ = slot;
        // Ahead: the batch after this one, the next epoch's first after the last.
        Job ahead{epoch_, position_ + count, std::min(count, size_ - position_ - count)};
        if (ahead.count == 0) ahead = {epoch_ + 1, 0, std::min(count, size_)};
        jobs_[1 - slot] = ahead;
        done_[1 - slot] = false;
        changed_.notify_all();
        lock.unlock();
        position_ += count;
        const Buffers& ready = buffers_[slot];
        return {ready.inputs.data(), ready.targets.data(), count};
    }

private:
    struct Job {
        std::size_t epoch = 0, first = 0, count = 0;
        bool operator==(const Job&) const = default;
    };
    struct Buffers {
        std::vector<float> inputs, targets;
    };

    // Makes each job handed to it into its slot, one at a time.
    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [&] { return stopping_ || pending() >= 0; });
            if (stopping_) return;
            const int slot = pending();
            const Job job = jobs_[slot];
            busy_ = true;
            lock.unlock();
            std::exception_ptr failed;
            try {
                Buffers& out = buffers_[slot];
                out.inputs.resize(job.count * input_width_);
                out.targets.resize(job.count * target_width_);
                for (std::size_t i = 0; i < job.count; ++i)
                    make_(job.epoch, job.first + i, out.inputs.data() + i * input_width_,
                          out.targets.data() + i * target_width_);
            } catch (...) {
                failed = std::current_exception();
            }
            lock.lock();
            busy_ = false;
            // A job replaced while it was made is made again.
            if (jobs_[slot] == job) done_[slot] = true;
            if (failed) failure_ = failed;
            changed_.notify_all();
        }
    }

    // The slot whose job is waiting to be made, or -1. The slot handed out
    // last (current_) is the caller's until its next call.
    int pending() const {
        const int other = 1 - current_;
        return (jobs_[other].count > 0 && !done_[other] && !failure_) ? other : -1;
    }

    std::size_t size_, input_width_, target_width_;
    Make make_;
    std::size_t epoch_ = 0, position_ = 0;  // the caller's place

    std::mutex mutex_;
    std::condition_variable changed_;
    Job jobs_[2];
    bool done_[2] = {false, false};
    bool busy_ = false, stopping_ = false;
    std::exception_ptr failure_;
    int current_ = 1;  // so that the first batch is made in slot 0
    Buffers buffers_[2];
    std::thread worker_;  // last: it starts once everything above exists
};

template <class Make>
GeneratedStream(std::size_t, std::size_t, std::size_t, Make) -> GeneratedStream<Make>;

} // namespace ctnn::data
