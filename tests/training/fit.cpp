#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/temp_dir.hpp"

namespace training_fit_test {

using Mlp = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<16>, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<3>, ctnn::Softmax>;
template <class Backend>
using Net = typename Mlp::template on<Backend>;

// Three Gaussian blobs in the plane, labelled by blob: separable, but not by
// one straight line, so a hidden layer must learn.
ctnn::data::Dataset blobs(std::size_t n, std::uint64_t seed) {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({n, 2}), xt::xtensor<float, 2>({n, 1})};
    const float centres[3][2] = {{-1.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 1.5f}};
    ctnn::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t label = i % 3;
        data.inputs(i, 0) = centres[label][0] + 0.3f * rng.normal();
        data.inputs(i, 1) = centres[label][1] + 0.3f * rng.normal();
        data.targets(i, 0) = float(label);
    }
    return data;
}

ctnn::FitOptions quiet(std::size_t epochs, std::uint64_t seed = 1) {
    return {.epochs = epochs, .batch_size = 32, .seed = seed, .verbosity = ctnn::Verbosity::silent};
}

template <class Network>
std::vector<float> weights(const Network& net) {
    return {net.parameters().begin(), net.parameters().end()};
}

TEST_CASE_TEMPLATE("fit: learns a small classification problem", Backend, CTNN_TEST_BACKENDS) {
    auto train = blobs(600, 1), test = blobs(300, 2);
    Net<Backend> net{ctnn::Seed{3}, ctnn::Dropout{0.1f}};
    float before = ctnn::evaluate(net, test).loss;
    auto history = ctnn::fit(net, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, train, quiet(20));
    auto score = ctnn::evaluate(net, test);
    CHECK(history.epochs.size() == 20);
    CHECK(history.epochs.back().loss < history.epochs.front().loss);
    CHECK(score.loss < before);
    CHECK(score.accuracy > 0.95f);
    CHECK(score.confusion.total() == 300);
}

TEST_CASE_TEMPLATE("fit: one-hot and class-index targets train identically", Backend,
                   CTNN_TEST_BACKENDS) {
    auto sparse = blobs(90, 4);
    ctnn::data::Dataset one_hot{sparse.inputs, xt::zeros<float>({std::size_t{90}, std::size_t{3}})};
    for (std::size_t i = 0; i < 90; ++i) one_hot.targets(i, std::size_t(sparse.targets(i, 0))) = 1.0f;
    Net<Backend> a{ctnn::Seed{1}}, b{ctnn::Seed{1}};
    ctnn::fit(a, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, sparse, quiet(2));
    ctnn::fit(b, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, one_hot, quiet(2));
    for (std::size_t i = 0; i < Net<Backend>::param_count; ++i)
        CHECK(a.parameters()[i] == doctest::Approx(b.parameters()[i]).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("fit: the same seed reproduces a run bit for bit; another seed does not",
                   Backend, CTNN_TEST_BACKENDS) {
    auto train = blobs(200, 5);
    auto run = [&](std::uint64_t seed) {
        Net<Backend> net{ctnn::Seed{9}, ctnn::Dropout{0.5f}};
        ctnn::fit(net, ctnn::RMSprop{1e-2f}, ctnn::CategoricalCrossEntropy{}, train, quiet(3, seed));
        return weights(net);
    };
    auto first = run(42), second = run(42), other = run(43);
    CHECK((first == second));
    CHECK((first != other));
}

TEST_CASE_TEMPLATE("fit: records validation figures and stops early when they stop improving",
                   Backend, CTNN_TEST_BACKENDS) {
    auto train = blobs(300, 6), validation = blobs(150, 7);
    Net<Backend> net{ctnn::Seed{2}};
    ctnn::FitOptions options = quiet(200);
    options.validation = validation;
    options.early_stopping = ctnn::EarlyStopping{.patience = 3};
    auto history = ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, train, options);
    CHECK(history.stopped_early);
    CHECK(history.epochs.size() < 200);
    CHECK(!std::isnan(history.epochs.back().val_loss));
    // The best epoch's weights are restored: evaluating them gives its val_loss.
    float best = history.epochs.front().val_loss;
    for (const auto& e : history.epochs) best = std::min(best, e.val_loss);
    CHECK(ctnn::evaluate(net, validation).loss == doctest::Approx(best).epsilon(1e-4));
}

TEST_CASE_TEMPLATE("fit: stop_when ends the run after the first epoch it accepts", Backend,
                   CTNN_TEST_BACKENDS) {
    auto train = blobs(300, 6), validation = blobs(150, 7);
    Net<Backend> net{ctnn::Seed{2}};
    ctnn::FitOptions options = quiet(50);
    options.validation = validation;
    std::vector<std::size_t> asked;
    options.stop_when = [&](std::size_t epoch, const ctnn::EpochRecord& record) {
        asked.push_back(epoch);
        return record.val_accuracy >= 0.9f;
    };
    auto history = ctnn::fit(net, ctnn::SGD{0.02f}, ctnn::CategoricalCrossEntropy{}, train, options);
    REQUIRE(history.stopped_early);
    REQUIRE(history.epochs.size() > 1);
    REQUIRE(history.epochs.size() < 50);
    CHECK(asked.size() == history.epochs.size());
    CHECK(history.epochs.back().val_accuracy >= 0.9f);
    for (std::size_t e = 0; e + 1 < history.epochs.size(); ++e) CHECK(history.epochs[e].val_accuracy < 0.9f);
    // The weights are the last epoch's, not a restored best.
    CHECK(ctnn::evaluate(net, validation).accuracy == doctest::Approx(history.epochs.back().val_accuracy));
}

TEST_CASE_TEMPLATE("fit: early stopping on a validation figure needs a validation set", Backend,
                   CTNN_TEST_BACKENDS) {
    auto train = blobs(30, 1);
    Net<Backend> net;
    ctnn::FitOptions options = quiet(2);
    options.early_stopping = ctnn::EarlyStopping{};
    CHECK_THROWS_AS(ctnn::fit(net, ctnn::SGD{}, ctnn::CategoricalCrossEntropy{}, train, options),
                    std::invalid_argument);
}

TEST_CASE_TEMPLATE("fit: a data set of the wrong width is rejected with both shapes named", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::data::Dataset wrong{xt::zeros<float>({std::size_t{4}, std::size_t{3}}),
                              xt::zeros<float>({std::size_t{4}, std::size_t{1}})};
    Net<Backend> net;
    CHECK_THROWS_WITH_AS(ctnn::fit(net, ctnn::SGD{}, ctnn::CategoricalCrossEntropy{}, wrong, quiet(1)),
                         doctest::Contains("3 values per sample, but the network's Input is Shape<2>"),
                         std::invalid_argument);
    ctnn::data::Dataset uneven{xt::zeros<float>({std::size_t{4}, std::size_t{2}}),
                               xt::zeros<float>({std::size_t{3}, std::size_t{1}})};
    CHECK_THROWS_WITH_AS(ctnn::evaluate(net, uneven), doctest::Contains("4 inputs but 3 targets"),
                         std::invalid_argument);
}

TEST_CASE_TEMPLATE("fit: progress lines when not on a terminal, and the history as CSV", Backend,
                   CTNN_TEST_BACKENDS) {
    auto train = blobs(60, 3);
    Net<Backend> net;
    std::ostringstream log;
    ctnn::FitOptions options = quiet(2);
    options.verbosity = ctnn::Verbosity::automatic;
    options.out = &log;
    auto history = ctnn::fit(net, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, train, options);
    CHECK(log.str().find("Epoch 1/2") != std::string::npos);
    CHECK(log.str().find("Epoch 2/2") != std::string::npos);
    CHECK(log.str().find('\r') == std::string::npos);

    const ctnn::testing::TempDir dir("ctnn-history-test");
    const auto file = dir / "history.csv";
    history.write_csv(file);
    std::ifstream in(file);
    std::string header, line;
    std::getline(in, header);
    CHECK(header == "epoch,loss,accuracy,val_loss,val_accuracy,seconds");
    int rows = 0;
    while (std::getline(in, line)) ++rows;
    CHECK(rows == 2);
}

TEST_CASE("schedules: cosine decay and step decay") {
    auto cosine = ctnn::cosine_decay(0.1f, 10);
    CHECK(cosine(0, 0.0f) == doctest::Approx(0.1));
    CHECK(cosine(5, 0.0f) == doctest::Approx(0.05));
    CHECK(cosine(10, 0.0f) == doctest::Approx(0.0));
    auto floor = ctnn::cosine_decay(0.1f, 10, 0.1f);
    CHECK(floor(10, 0.0f) == doctest::Approx(0.01));
    auto steps = ctnn::step_decay(1.0f, 3, 0.5f);
    CHECK(steps(2, 0.0f) == 1.0f);
    CHECK(steps(3, 0.0f) == 0.5f);
    CHECK(steps(7, 0.0f) == 0.25f);
}

TEST_CASE_TEMPLATE("fit: the schedule sets the optimiser's rate before each epoch", Backend,
                   CTNN_TEST_BACKENDS) {
    auto train = blobs(30, 1);
    Net<Backend> net;
    ctnn::SGD sgd{1.0f};
    ctnn::FitOptions options = quiet(3);
    std::vector<std::size_t> epochs_seen;
    options.learning_rate_schedule = [&](std::size_t epoch, float) {
        epochs_seen.push_back(epoch);
        return 0.01f * float(epoch + 1);
    };
    ctnn::fit(net, sgd, ctnn::CategoricalCrossEntropy{}, train, options);
    CHECK((epochs_seen == std::vector<std::size_t>{0, 1, 2}));
    CHECK(sgd.learning_rate == doctest::Approx(0.03));
}

} // namespace training_fit_test
