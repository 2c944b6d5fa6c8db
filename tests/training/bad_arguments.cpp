// fit's answer to every bad argument at the API: a clear exception before
// anything trains, or a documented behaviour, a test for each.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace training_bad_arguments_test {

using Mlp = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<4>, ctnn::Tanh, ctnn::Dense<3>, ctnn::Softmax>;
template <class Backend>
using Net = typename Mlp::template on<Backend>;

ctnn::data::Dataset rows(std::size_t inputs, std::size_t targets, std::size_t width = 2) {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({inputs, width}), xt::xtensor<float, 2>({targets, 1})};
    for (std::size_t i = 0; i < inputs * width; ++i) data.inputs.data()[i] = float(i % 5) * 0.1f;
    for (std::size_t i = 0; i < targets; ++i) data.targets(i, 0) = float(i % 3);
    return data;
}

ctnn::FitOptions quiet(std::size_t epochs = 1) {
    return {.epochs = epochs, .batch_size = 4, .seed = 1, .verbosity = ctnn::Verbosity::silent};
}

template <class Net>
auto fit(Net& net, const ctnn::data::Dataset& train, const ctnn::FitOptions& options) {
    return ctnn::fit(net, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, train, options);
}

TEST_CASE_TEMPLATE("fit: a class label outside the output's classes is refused before training, naming its row",
                   Backend, CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    const auto before = net.host_parameters();
    auto train = rows(10, 10);
    train.targets(7, 0) = 3.0f;
    CHECK_THROWS_WITH_AS(fit(net, train, quiet()),
                         "ctnn: categorical cross-entropy: target row 7 holds class index 3, outside 0..2",
                         std::invalid_argument);
    train.targets(7, 0) = -1.0f;
    CHECK_THROWS_WITH_AS(fit(net, train, quiet()),
                         "ctnn: categorical cross-entropy: target row 7 holds class index -1, outside 0..2",
                         std::invalid_argument);
    CHECK(net.host_parameters() == before);
    // In the validation set too.
    auto validation = rows(6, 6);
    validation.targets(5, 0) = 9.0f;
    auto options = quiet();
    options.validation = validation;
    CHECK_THROWS_WITH_AS(fit(net, rows(10, 10), options),
                         "ctnn: categorical cross-entropy: target row 5 holds class index 9, outside 0..2",
                         std::invalid_argument);
}

TEST_CASE_TEMPLATE("fit: with check_inputs, a NaN or infinite input is refused naming its row", Backend,
                   CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    auto train = rows(10, 10);
    train.inputs(6, 1) = std::numeric_limits<float>::quiet_NaN();
    auto options = quiet();
    options.check_inputs = true;
    CHECK_THROWS_WITH_AS(fit(net, train, options), "ctnn: fit: training input row 6 holds nan at value 1",
                         std::invalid_argument);
    train.inputs(6, 1) = 0.0f;
    auto validation = rows(4, 4);
    validation.inputs(2, 0) = -std::numeric_limits<float>::infinity();
    options.validation = validation;
    CHECK_THROWS_WITH_AS(fit(net, train, options), "ctnn: fit: validation input row 2 holds -inf at value 0",
                         std::invalid_argument);
}

TEST_CASE_TEMPLATE("fit: data sets that do not fit are refused, naming what differs", Backend, CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    CHECK_THROWS_WITH_AS(fit(net, rows(5, 4), quiet()),
                         "ctnn: fit: training data set has 5 inputs but 4 targets", std::invalid_argument);
    CHECK_THROWS_WITH_AS(fit(net, rows(0, 0), quiet()), "ctnn: fit: training data set is empty",
                         std::invalid_argument);
    auto options = quiet();
    const auto wide = rows(4, 4, 3);
    options.validation = wide;
    CHECK_THROWS_WITH_AS(fit(net, rows(8, 8), options),
                         "ctnn: fit: validation inputs have 3 values per sample, but the network's Input is "
                         "Shape<2> (2 values)",
                         std::invalid_argument);
}

TEST_CASE_TEMPLATE("fit: batch size 0 is refused; one larger than the data set is one batch of all of it",
                   Backend, CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    auto options = quiet();
    options.batch_size = 0;
    CHECK_THROWS_WITH_AS(fit(net, rows(8, 8), options), "ctnn: fit: batch_size must be > 0",
                         std::invalid_argument);
    // 8 samples in a batch of 100 train as the batch of 8 does.
    Net<Backend> whole = net, eight = net;
    options.batch_size = 100;
    const auto large = fit(whole, rows(8, 8), options);
    options.batch_size = 8;
    const auto exact = fit(eight, rows(8, 8), options);
    CHECK(large.epochs.front().loss == exact.epochs.front().loss);
    CHECK(whole.host_parameters() == eight.host_parameters());
}

TEST_CASE_TEMPLATE("fit: 0 epochs trains nothing and returns an empty history", Backend, CTNN_TEST_BACKENDS) {
    Net<Backend> net{ctnn::Seed{1}};
    const auto before = net.host_parameters();
    const auto history = fit(net, rows(8, 8), quiet(0));
    CHECK(history.epochs.empty());
    CHECK(net.host_parameters() == before);
}

} // namespace training_bad_arguments_test
