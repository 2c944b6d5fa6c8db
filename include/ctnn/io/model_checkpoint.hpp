// ModelCheckpoint: a fit() callback that saves the network's weights, by
// default only when the monitored figure improves, so that the file always
// holds the best epoch so far (Keras's ModelCheckpoint with
// save_weights_only). Each save is atomic (io/save.hpp). Needs ctnn::hdf5.
//
//   ctnn::ModelCheckpoint best("model.h5", net);
//   ctnn::fit(net, optimizer, loss, train, {..., .validation = test, .on_epoch_end = {best}});
//   ctnn::load_weights("model.h5", net);  // the best epoch's weights
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "ctnn/io/save.hpp"
#include "ctnn/training/fit.hpp"
#include "ctnn/training/history.hpp"

namespace ctnn {

struct ModelCheckpointOptions {
    EarlyStopping::Monitor monitor = EarlyStopping::Monitor::val_loss;
    float min_delta = 0.0f;       // an improvement must beat the best by more than this
    bool save_best_only = true;   // false: save after every epoch
};

// Copies share their record of the best epoch, so the one given to fit() by
// value and the caller's agree.
template <class Net>
class ModelCheckpoint {
public:
    ModelCheckpoint(std::filesystem::path file, const Net& net, ModelCheckpointOptions options = {})
        : file_(std::move(file)), net_(&net), options_(options), best_(std::make_shared<Best>()) {}

    // The file also records, as root attributes, the epoch (counted from 1)
    // and the monitored figure: epoch, monitor, monitor_value.
    void operator()(std::size_t epoch, const EpochRecord& record) const {
        const float figure = detail::monitored(record, options_.monitor);
        if (std::isnan(figure))
            throw std::invalid_argument(
                "ctnn: ModelCheckpoint monitors a validation figure but fit() has no "
                "validation set");
        const bool improved = figure < best_->figure - options_.min_delta;
        if (improved) {
            best_->figure = figure;
            best_->epoch = epoch;
        }
        if (!improved && options_.save_best_only) return;
        detail::write_atomically(file_, [&](const hdf5::Group& root) {
            detail::write_weights(root, *net_);
            root.set_attribute("epoch", std::uint64_t{epoch + 1});
            root.set_attribute("monitor", monitor_name());
            root.set_attribute("monitor_value", options_.monitor == EarlyStopping::Monitor::val_accuracy
                                                    ? -figure
                                                    : figure);
        });
    }

    // The epoch (counted from 0) with the best figure so far, if any ran.
    std::optional<std::size_t> best_epoch() const { return best_->epoch; }
    const std::filesystem::path& file() const { return file_; }

private:
    struct Best {
        float figure = std::numeric_limits<float>::infinity();
        std::optional<std::size_t> epoch;
    };

    std::string_view monitor_name() const {
        switch (options_.monitor) {
        case EarlyStopping::Monitor::val_loss: return "val_loss";
        case EarlyStopping::Monitor::val_accuracy: return "val_accuracy";
        case EarlyStopping::Monitor::loss: return "loss";
        }
        return "loss";
    }

    std::filesystem::path file_;
    const Net* net_;
    ModelCheckpointOptions options_;
    std::shared_ptr<Best> best_;
};

} // namespace ctnn
