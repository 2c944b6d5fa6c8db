// The single-process side of data parallelism (training/data_parallel.hpp):
// shards, random layers keyed on a sample's place in the global batch, and
// BatchNorm's synchronised statistics. tests/distributed runs the real thing
// under mpirun.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace training_data_parallel_test {

std::vector<float> ramp(std::size_t n) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = 0.25f + float((i * 37) % 101) / 50.0f;
    return x;
}

// `copies` processes holding the same samples: every sum is `copies` times
// this process's, as an all-reduce over them would give.
struct IdenticalProcesses final : ctnn::BatchStatisticsSum {
    int copies;
    explicit IdenticalProcesses(int n) : copies(n) {}
    void all_reduce_sum(double* values, std::size_t n) const override {
        for (std::size_t i = 0; i < n; ++i) values[i] *= copies;
    }
};

TEST_CASE("shard_of: contiguous shards that cover the batch, sizes within one") {
    for (std::size_t global : {0u, 1u, 5u, 32u, 33u, 100u})
        for (int size : {1, 2, 3, 8}) {
            std::size_t next = 0, smallest = global, largest = 0;
            for (int rank = 0; rank < size; ++rank) {
                const auto shard = ctnn::dist::shard_of(global, rank, size);
                CHECK(shard.first == next);
                next = shard.last;
                smallest = std::min(smallest, shard.size());
                largest = std::max(largest, shard.size());
            }
            CHECK(next == global);
            CHECK(largest - smallest <= 1);
        }
}

TEST_CASE_TEMPLATE("Dropout and GaussianNoise: a shard draws the global batch's masks and noise", Backend,
                   CTNN_TEST_BACKENDS) {
    using Stack = ctnn::testing::LayerStack<Backend, ctnn::Shape<3, 4>, ctnn::Fusion::fused, ctnn::GaussianNoise,
                                            ctnn::Dropout>;
    const std::size_t global = 6, first = 4, local = 2, per = 12;
    const auto x = ramp(global * per);
    ctnn::Context whole{ctnn::Mode::training, 9, 3, 0};
    Stack all(ctnn::GaussianNoise{0.5f}, ctnn::Dropout{0.4f});
    const auto y = all.forward(x, global, whole);
    const std::vector<float> expected(y.begin() + first * per, y.end());
    ctnn::Context part = whole;
    part.sample_offset = first;
    part.global_batch = global;
    Stack shard(ctnn::GaussianNoise{0.5f}, ctnn::Dropout{0.4f});
    const std::vector<float> x_shard(x.begin() + first * per, x.end());
    const auto y_shard = shard.forward(x_shard, local, part);
    CHECK(std::vector<float>(y_shard.begin(), y_shard.end()) == expected);
}

TEST_CASE_TEMPLATE("BatchNorm: synchronised statistics over processes holding the same samples equal the "
                   "process's own", Backend, CTNN_TEST_BACKENDS) {
    using Stack = ctnn::testing::LayerStack<Backend, ctnn::Shape<3, 4, 5>, ctnn::Fusion::fused, ctnn::BatchNorm>;
    const std::size_t batch = 4, n = batch * 60, per_channel = batch * 20;
    const auto x = ramp(n);
    std::vector<float> dy = ramp(n);
    for (float& v : dy) v -= 1.0f;
    const auto copy = [](std::span<const float> values) { return std::vector<float>(values.begin(), values.end()); };
    const ctnn::Context own{ctnn::Mode::training, 0, 0, 0};
    for (int copies : {1, 3}) {
        CAPTURE(copies);
        Stack reference{ctnn::BatchNorm{}}, synced{ctnn::BatchNorm{}};
        for (float& g : reference.params()) g = 0.5f;
        for (float& g : synced.params()) g = 0.5f;
        const IdenticalProcesses processes(copies);
        ctnn::Context sync = own;
        sync.global_batch = batch * std::size_t(copies);
        sync.batch_statistics = &processes;
        const auto want = copy(reference.forward(x, batch, own));
        const auto got = copy(synced.forward(x, batch, sync));
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
        // The same mean; the running variance takes the global count's
        // Bessel correction, N / (N - 1) with N = copies * per_channel.
        const double bessel = double(per_channel) / double(per_channel - 1);
        const double global_bessel = double(copies * per_channel) / double(copies * per_channel - 1);
        for (std::size_t c = 0; c < 3; ++c) {
            CHECK(synced.state()[c] == doctest::Approx(reference.state()[c]).epsilon(1e-5));
            const double variance = (reference.state()[3 + c] - 0.99) / (0.01 * bessel);
            CHECK(synced.state()[3 + c] == doctest::Approx(0.99 + 0.01 * variance * global_bessel).epsilon(1e-5));
        }
        const auto dx_want = copy(reference.backward(dy, batch, own));
        const auto dx_got = copy(synced.backward(dy, batch, sync));
        for (std::size_t i = 0; i < dx_got.size(); ++i)
            CHECK(dx_got[i] == doctest::Approx(dx_want[i]).epsilon(1e-4));
        // dgamma and dbeta stay this process's: the gradients' all-reduce adds them.
        for (std::size_t i = 0; i < reference.grads().size(); ++i)
            CHECK(synced.grads()[i] == doctest::Approx(reference.grads()[i]).epsilon(1e-5));
    }
}

} // namespace training_data_parallel_test
