// fit and a step whose loss goes NaN or infinite: it stops in that step with
// a message naming the epoch and the batch and keeps the weights (and the
// running statistics) of the last good step, or, asked to, skips the batch.
// On every backend, with captured steps and without.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace training_non_finite_test {

using Normalised = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<4>, ctnn::BatchNorm, ctnn::Tanh,
                                    ctnn::Dense<3>, ctnn::Softmax>;
template <class Backend>
using Net = typename Normalised::template on<Backend>;

// n rows; row r's label is r mod 3.
ctnn::data::Dataset labelled(std::size_t n) {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({n, 2}), xt::xtensor<float, 2>({n, 1})};
    for (std::size_t r = 0; r < n; ++r) {
        data.inputs(r, 0) = std::sin(float(r));
        data.inputs(r, 1) = std::cos(float(3 * r));
        data.targets(r, 0) = float(r % 3);
    }
    return data;
}

// The rows of `data` but [first, last).
ctnn::data::Dataset without(const ctnn::data::Dataset& data, std::size_t first, std::size_t last) {
    const std::size_t n = data.size() - (last - first);
    ctnn::data::Dataset kept{xt::xtensor<float, 2>({n, 2}), xt::xtensor<float, 2>({n, 1})};
    for (std::size_t r = 0, k = 0; r < data.size(); ++r) {
        if (r >= first && r < last) continue;
        kept.inputs(k, 0) = data.inputs(r, 0);
        kept.inputs(k, 1) = data.inputs(r, 1);
        kept.targets(k++, 0) = data.targets(r, 0);
    }
    return kept;
}

ctnn::FitOptions in_order(std::size_t epochs, bool capture) {
    return {.epochs = epochs, .batch_size = 4, .seed = 1, .shuffle = false,
            .verbosity = ctnn::Verbosity::silent, .capture_steps = capture};
}

bool all_finite(const std::vector<float>& values) {
    for (float v : values)
        if (!std::isfinite(v)) return false;
    return true;
}

TEST_CASE_TEMPLATE("fit: a NaN in the data stops training in its batch, with the weights and statistics "
                   "of the last good step", Backend, CTNN_TEST_BACKENDS) {
    for (bool capture : {true, false}) {
        CAPTURE(capture);
        auto data = labelled(20);
        data.inputs(13, 1) = std::numeric_limits<float>::quiet_NaN();  // batch 4: rows 12..15
        Net<Backend> net{ctnn::Seed{2}}, reference = net;
        const auto history = ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, data,
                                       in_order(3, capture));
        CHECK(history.stopped_early);
        CHECK(history.stop_reason ==
              "ctnn: fit: a non-finite loss in epoch 1, batch 4 of 5; training stopped, and the network "
              "keeps the weights of the last good step (FitOptions::on_non_finite = "
              "OnNonFinite::skip_batch skips such batches instead)");
        CHECK(history.epochs.size() == 1);
        // The three good steps, and no more.
        ctnn::fit(reference, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, without(data, 12, 20),
                  in_order(1, capture));
        CHECK(net.host_parameters() == reference.host_parameters());
        CHECK(net.host_state() == reference.host_state());
    }
}

TEST_CASE_TEMPLATE("fit: a learning rate that makes the run diverge stops it while the weights are finite",
                   Backend, CTNN_TEST_BACKENDS) {
    using Linear = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<1>>;
    for (bool capture : {true, false}) {
        CAPTURE(capture);
        typename Linear::template on<Backend> net{ctnn::Seed{1}};
        auto data = labelled(20);
        for (std::size_t r = 0; r < 20; ++r) data.targets(r, 0) = 100.0f * data.inputs(r, 0);
        const auto history = ctnn::fit(net, ctnn::SGD{50.0f}, ctnn::MeanSquaredError{}, data, in_order(50, capture));
        CHECK(history.stopped_early);
        CHECK(history.stop_reason.find("ctnn: fit: a non-finite") == 0);
        CHECK(history.epochs.size() < 50);
        CHECK(all_finite(net.host_parameters()));
    }
}

TEST_CASE_TEMPLATE("fit: OnNonFinite::skip_batch skips a NaN batch and trains on the others", Backend,
                   CTNN_TEST_BACKENDS) {
    for (bool capture : {true, false}) {
        CAPTURE(capture);
        auto data = labelled(20);
        data.inputs(13, 0) = std::numeric_limits<float>::infinity();
        Net<Backend> net{ctnn::Seed{2}}, reference = net;
        auto options = in_order(2, capture);
        options.on_non_finite = ctnn::OnNonFinite::skip_batch;
        const auto history = ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, data, options);
        CHECK_FALSE(history.stopped_early);
        CHECK(history.epochs.size() == 2);
        CHECK(history.skipped_batches == 2);
        // As if the batch were not there.
        const auto clean = ctnn::fit(reference, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{},
                                     without(data, 12, 16), options);
        CHECK(net.host_parameters() == reference.host_parameters());
        CHECK(net.host_state() == reference.host_state());
        CHECK(history.epochs.back().loss == doctest::Approx(clean.epochs.back().loss).epsilon(1e-5));
    }
}

} // namespace training_non_finite_test
