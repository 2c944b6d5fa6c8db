// BatchTrainer::train_on_batch: the steps of fit(), one batch at a time.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <xtensor/xview.hpp>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace training_train_on_batch_test {

using Mlp = ctnn::Sequential<ctnn::Input<3>, ctnn::Dense<8>, ctnn::BatchNorm, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<2>, ctnn::Softmax>;

ctnn::data::Dataset points(std::size_t n) {
    ctnn::data::Dataset data{xt::zeros<float>({n, std::size_t{3}}), xt::zeros<float>({n, std::size_t{1}})};
    ctnn::Rng rng(2);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < 3; ++j) data.inputs(i, j) = rng.normal();
        data.targets(i, 0) = float(data.inputs(i, 0) + data.inputs(i, 2) > 0);
    }
    return data;
}

TEST_CASE_TEMPLATE("train_on_batch: batch after batch is fit over the same batches", Backend, CTNN_TEST_BACKENDS) {
    using Net = typename Mlp::template on<Backend>;
    const ctnn::data::Dataset data = points(40);
    Net by_fit{ctnn::Seed{3}, ctnn::Dropout{0.3f}}, by_hand{ctnn::Seed{3}, ctnn::Dropout{0.3f}};
    ctnn::fit(by_fit, ctnn::Adam{0.02f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 2, .batch_size = 16, .seed = 5, .shuffle = false, .verbosity = ctnn::Verbosity::silent});

    ctnn::BatchTrainer trainer(by_hand, ctnn::Adam{0.02f}, ctnn::CategoricalCrossEntropy{}, {.seed = 5});
    for (int epoch = 0; epoch < 2; ++epoch)
        for (std::size_t first = 0; first < 40; first += 16) {
            const std::size_t last = std::min<std::size_t>(first + 16, 40);
            const xt::xtensor<float, 2> x = xt::view(data.inputs, xt::range(first, last), xt::all());
            const xt::xtensor<float, 2> t = xt::view(data.targets, xt::range(first, last), xt::all());
            const ctnn::BatchFigures figures = trainer.train_on_batch(x, t);
            CHECK(std::isfinite(figures.loss));
            CHECK(((figures.accuracy >= 0.0f && figures.accuracy <= 1.0f)));
        }
    CHECK(trainer.step() == 6);
    const std::vector<float> a = by_fit.host_parameters(), b = by_hand.host_parameters();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-6));
    const std::vector<float> sa = by_fit.host_state(), sb = by_hand.host_state();
    for (std::size_t i = 0; i < sa.size(); ++i) CHECK(sb[i] == doctest::Approx(sa[i]).epsilon(1e-6));
}

TEST_CASE("train_on_batch: a non-finite step changes nothing and says which step it was") {
    using Net = Mlp::on<ctnn::backend::Cpu>;
    const ctnn::data::Dataset data = points(8);
    Net net{ctnn::Seed{1}};
    ctnn::BatchTrainer trainer(net, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{});
    trainer.train_on_batch(data.inputs, data.targets);
    const std::vector<float> parameters = net.host_parameters(), state = net.host_state();
    xt::xtensor<float, 2> bad = data.inputs;
    bad(3, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(trainer.train_on_batch(bad, data.targets), doctest::Contains("non-finite loss at step 1"),
                         std::runtime_error);
    CHECK((net.host_parameters() == parameters));
    CHECK((net.host_state() == state));
    CHECK_THROWS_WITH_AS(trainer.train_on_batch(xt::zeros<float>({std::size_t{2}, std::size_t{4}}), data.targets),
                         doctest::Contains("4 values per sample"), std::invalid_argument);
}

} // namespace training_train_on_batch_test
