// fit() on samples made on the fly (data/stream.hpp): the stream hands out
// exactly the samples its function makes, whatever the batch sizes, and a
// network trained on a stream that replays a data set in order ends with the
// weights of one trained on that data set unshuffled.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/stream.hpp>

#include "support/backends.hpp"

namespace training_stream_test {

// Sample i of epoch e: inputs (e, i, e + i), target i % 3.
struct Numbered {
    void operator()(std::uint64_t epoch, std::size_t index, float* inputs, float* targets) const {
        inputs[0] = float(epoch);
        inputs[1] = float(index);
        inputs[2] = float(epoch + index);
        targets[0] = float(index % 3);
    }
};

void check_batch(const ctnn::data::BatchRows& rows, std::size_t epoch, std::size_t first, std::size_t count) {
    REQUIRE(rows.count == count);
    for (std::size_t i = 0; i < count; ++i) {
        CHECK(rows.inputs[3 * i] == float(epoch));
        CHECK(rows.inputs[3 * i + 1] == float(first + i));
        CHECK(rows.inputs[3 * i + 2] == float(epoch + first + i));
        CHECK(rows.targets[i] == float((first + i) % 3));
    }
}

TEST_CASE("GeneratedStream: every batch holds the samples of its place, whatever the sizes asked") {
    ctnn::data::GeneratedStream stream(10, 3, 1, Numbered{});
    static_assert(ctnn::data::BatchStream<decltype(stream)>);
    CHECK(stream.size() == 10);
    for (std::size_t epoch = 0; epoch < 3; ++epoch) {
        stream.begin_epoch(epoch);
        check_batch(stream.next_batch(4), epoch, 0, 4);
        check_batch(stream.next_batch(4), epoch, 4, 4);
        check_batch(stream.next_batch(2), epoch, 8, 2);
    }
    // Against the batch made ahead: another size, then a jump to an earlier epoch.
    stream.begin_epoch(7);
    check_batch(stream.next_batch(3), 7, 0, 3);
    check_batch(stream.next_batch(5), 7, 3, 5);
    stream.begin_epoch(1);
    check_batch(stream.next_batch(10), 1, 0, 10);
    CHECK_THROWS_WITH_AS(stream.next_batch(1), doctest::Contains("a batch of 1 from sample 10 of an epoch of 10"),
                         std::invalid_argument);
}

TEST_CASE("GeneratedStream: a failure while making a sample reaches the caller, and the stream goes on") {
    std::atomic<bool> fail{true};
    ctnn::data::GeneratedStream stream(4, 3, 1, [&](std::uint64_t e, std::size_t i, float* x, float* t) {
        if (i == 2 && fail) throw std::runtime_error("no digit 2 today");
        Numbered{}(e, i, x, t);
    });
    stream.begin_epoch(0);
    check_batch(stream.next_batch(2), 0, 0, 2);
    CHECK_THROWS_WITH_AS(stream.next_batch(2), "no digit 2 today", std::runtime_error);
    fail = false;
    stream.begin_epoch(0);
    check_batch(stream.next_batch(4), 0, 0, 4);
}

TEST_CASE_TEMPLATE("fit: a stream replaying a data set in order trains as that data set unshuffled", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<8>, ctnn::Tanh, ctnn::Dropout,
                                          ctnn::Dense<3>, ctnn::Softmax>::template on<Backend>;
    constexpr std::size_t n = 50;
    ctnn::data::Dataset data{xt::zeros<float>({n, std::size_t{2}}), xt::zeros<float>({n, std::size_t{1}})};
    ctnn::Rng rng(5);
    for (std::size_t i = 0; i < n; ++i) {
        data.inputs(i, 0) = rng.normal();
        data.inputs(i, 1) = rng.normal();
        data.targets(i, 0) = float((data.inputs(i, 0) > 0) + (data.inputs(i, 1) > 0));
    }
    ctnn::data::GeneratedStream stream(n, 2, 1, [&](std::uint64_t, std::size_t i, float* x, float* t) {
        x[0] = data.inputs(i, 0);
        x[1] = data.inputs(i, 1);
        t[0] = data.targets(i, 0);
    });
    const ctnn::FitOptions options{.epochs = 3, .batch_size = 16, .validation = data, .seed = 3,
                                   .shuffle = false, .verbosity = ctnn::Verbosity::silent};
    Net from_data{ctnn::Seed{1}, ctnn::Dropout{0.2f}}, from_stream{ctnn::Seed{1}, ctnn::Dropout{0.2f}};
    const auto expected = ctnn::fit(from_data, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, data, options);
    const auto streamed = ctnn::fit(from_stream, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, stream, options);
    REQUIRE(streamed.epochs.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(streamed.epochs[e].loss == doctest::Approx(expected.epochs[e].loss).epsilon(1e-6));
        CHECK(streamed.epochs[e].val_accuracy == expected.epochs[e].val_accuracy);
    }
    const std::vector<float> a = from_data.host_parameters(), b = from_stream.host_parameters();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-6));
}

TEST_CASE("fit: a stream of the wrong width is rejected with both shapes named") {
    using Net = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<3>, ctnn::Softmax>::on<ctnn::backend::Cpu>;
    Net net;
    ctnn::data::GeneratedStream stream(8, 3, 1, Numbered{});
    CHECK_THROWS_WITH_AS(ctnn::fit(net, ctnn::SGD{}, ctnn::CategoricalCrossEntropy{}, stream,
                                   {.verbosity = ctnn::Verbosity::silent}),
                         doctest::Contains("3 values per sample, but the network's Input is Shape<2>"),
                         std::invalid_argument);
}

} // namespace training_stream_test
