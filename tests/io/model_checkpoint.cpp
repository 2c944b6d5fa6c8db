#include <ctnn/io/model_checkpoint.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/temp_dir.hpp"

namespace io_model_checkpoint_test {

using Net = ctnn::Sequential<ctnn::Input<2>, ctnn::Dense<8>, ctnn::Tanh, ctnn::Dense<2>,
                             ctnn::Softmax>;
using Monitor = ctnn::EarlyStopping::Monitor;
using ctnn::testing::TempDir;

ctnn::EpochRecord record(float loss, float val_loss, float val_accuracy) {
    ctnn::EpochRecord r;
    r.loss = loss;
    r.val_loss = val_loss;
    r.val_accuracy = val_accuracy;
    return r;
}

std::vector<float> weights_in(const std::filesystem::path& file) {
    Net net;
    ctnn::load_weights(file, net);
    return {net.parameters().begin(), net.parameters().end()};
}

std::uint64_t saved_epoch(const std::filesystem::path& file) {
    const ctnn::hdf5::QuietErrors quiet;
    return ctnn::hdf5::File::open_read_only(file).root().u64_attribute("epoch");
}

// Gives the network's weights a value that tells the epochs apart.
void mark(Net& net, float value) { std::ranges::fill(net.parameters(), value); }

TEST_CASE("ModelCheckpoint keeps the weights of the best epoch") {
    TempDir dir("ctnn-checkpoint-test");
    Net net;
    ctnn::ModelCheckpoint checkpoint(dir / "best.h5", net);
    const float val_losses[] = {0.9f, 0.5f, 0.7f, 0.4f, 0.6f};
    std::size_t best = 0;
    for (std::size_t epoch = 0; epoch < 5; ++epoch) {
        mark(net, float(epoch));
        checkpoint(epoch, record(1.0f, val_losses[epoch], 0.5f));
        if (val_losses[epoch] < val_losses[best]) best = epoch;
        CHECK(checkpoint.best_epoch() == best);
        CHECK(saved_epoch(dir / "best.h5") == best + 1);
        CHECK(weights_in(dir / "best.h5") == std::vector<float>(Net::param_count, float(best)));
    }
}

TEST_CASE("ModelCheckpoint follows its monitor, min_delta and save_best_only") {
    TempDir dir("ctnn-checkpoint-test");
    Net net;
    SUBCASE("val_accuracy: higher is better") {
        ctnn::ModelCheckpoint checkpoint(dir / "m.h5", net, {.monitor = Monitor::val_accuracy});
        const float accuracies[] = {0.8f, 0.9f, 0.85f};
        for (std::size_t epoch = 0; epoch < 3; ++epoch)
            checkpoint(epoch, record(1.0f, 1.0f, accuracies[epoch]));
        CHECK(checkpoint.best_epoch() == 1);
        CHECK(saved_epoch(dir / "m.h5") == 2);
        const ctnn::hdf5::QuietErrors quiet;
        const auto root = ctnn::hdf5::File::open_read_only(dir / "m.h5").root();
        CHECK(root.string_attribute("monitor") == "val_accuracy");
        CHECK(root.float_attribute("monitor_value") == 0.9f);
    }
    SUBCASE("min_delta: small improvements do not count") {
        ctnn::ModelCheckpoint checkpoint(dir / "m.h5", net, {.monitor = Monitor::loss, .min_delta = 0.1f});
        const float losses[] = {1.0f, 0.95f, 0.85f};
        for (std::size_t epoch = 0; epoch < 3; ++epoch) checkpoint(epoch, record(losses[epoch], 0, 0));
        CHECK(checkpoint.best_epoch() == 2);
    }
    SUBCASE("save_best_only off: every epoch is written") {
        ctnn::ModelCheckpoint checkpoint(dir / "m.h5", net, {.save_best_only = false});
        checkpoint(0, record(1.0f, 0.5f, 0.5f));
        mark(net, 3.0f);
        checkpoint(1, record(1.0f, 0.9f, 0.5f));
        CHECK(checkpoint.best_epoch() == 0);
        CHECK(saved_epoch(dir / "m.h5") == 2);
        CHECK(weights_in(dir / "m.h5") == std::vector<float>(Net::param_count, 3.0f));
    }
    SUBCASE("a validation figure without a validation set") {
        ctnn::ModelCheckpoint checkpoint(dir / "m.h5", net);
        CHECK_THROWS_AS(checkpoint(0, ctnn::EpochRecord{}), std::invalid_argument);
        CHECK_FALSE(std::filesystem::exists(dir / "m.h5"));
    }
}

TEST_CASE("ModelCheckpoint in fit() saves the epoch with the lowest validation loss") {
    TempDir dir("ctnn-checkpoint-test");
    // Noisy XOR-like labels on few points: the validation loss turns up once
    // the network starts to memorise them.
    const std::size_t n = 40;
    ctnn::data::Dataset train{xt::xtensor<float, 2>({n, 2}), xt::xtensor<float, 2>({n, 1})};
    ctnn::data::Dataset validation = train;
    ctnn::Rng rng(3);
    for (ctnn::data::Dataset* data : {&train, &validation})
        for (std::size_t i = 0; i < n; ++i) {
            data->inputs(i, 0) = rng.uniform(-1.0f, 1.0f);
            data->inputs(i, 1) = rng.uniform(-1.0f, 1.0f);
            const bool label = (data->inputs(i, 0) > 0) != (data->inputs(i, 1) > 0);
            data->targets(i, 0) = float(rng.uniform() < 0.3f ? !label : label);
        }

    Net net{ctnn::Seed{4}};
    ctnn::ModelCheckpoint checkpoint(dir / "best.h5", net);
    std::vector<std::vector<float>> snapshots;
    auto history = ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, train,
                             {.epochs = 30,
                              .batch_size = 8,
                              .validation = validation,
                              .seed = 1,
                              .verbosity = ctnn::Verbosity::silent,
                              .on_epoch_end = {checkpoint, [&](std::size_t, const ctnn::EpochRecord&) {
                                                   snapshots.emplace_back(net.parameters().begin(),
                                                                          net.parameters().end());
                                               }}});
    REQUIRE(snapshots.size() == 30);
    const auto lowest = std::ranges::min_element(history.epochs, {}, &ctnn::EpochRecord::val_loss);
    const std::size_t best = std::size_t(lowest - history.epochs.begin());
    CHECK(best < 29);  // the file is not simply the last epoch
    CHECK(checkpoint.best_epoch() == best);
    CHECK(saved_epoch(dir / "best.h5") == best + 1);
    CHECK(weights_in(dir / "best.h5") == snapshots[best]);
}

} // namespace io_model_checkpoint_test
