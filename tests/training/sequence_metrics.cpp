#include <doctest/doctest.h>

#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace training_sequence_metrics_test {

TEST_CASE("sequence accuracy: per step and per whole sequence") {
    // Two sequences of three steps over two classes.
    std::vector<float> predictions{0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f,    // 0 1 0
                                   0.3f, 0.7f, 0.4f, 0.6f, 0.7f, 0.3f};  // 1 1 0
    std::vector<float> labels{0, 1, 0, 1, 0, 0};
    ctnn::SequenceAccuracy accuracy;
    accuracy.add({predictions.data(), labels.data(), 6, 2, 1}, 3);
    CHECK(accuracy.per_step() == doctest::Approx(5.0 / 6.0));
    CHECK(accuracy.per_sequence() == doctest::Approx(0.5));

    // One-hot targets count the same.
    std::vector<float> one_hot{1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0};
    ctnn::SequenceAccuracy same;
    same.add({predictions.data(), one_hot.data(), 6, 2, 2}, 3);
    CHECK(same.correct_steps == 5);
    CHECK(same.correct_sequences == 1);
}

TEST_CASE_TEMPLATE("sequence accuracy of a network over a data set", Backend,
                   CTNN_TEST_BACKENDS) {
    // Softmax of a zero-weight Dense per step predicts class 0 everywhere
    // (ties go to the first class).
    using Net = typename ctnn::Sequential<ctnn::Input<2, 3>, ctnn::TimeDistributed<ctnn::Dense<2>>,
                                          ctnn::Softmax>::template on<Backend>;
    Net net;
    for (float& w : net.parameters()) w = 0.0f;
    ctnn::data::Dataset data{xt::zeros<float>({3, 6}), xt::xtensor<float, 2>{{0, 0}, {0, 1}, {1, 1}}};
    auto accuracy = ctnn::sequence_accuracy(net, data, 2);
    CHECK(accuracy.sequences == 3);
    CHECK(accuracy.correct_steps == 3);
    CHECK(accuracy.correct_sequences == 1);
}

} // namespace training_sequence_metrics_test
