// What fit() records per epoch, as Keras's History does.
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn {

struct EpochRecord {
    static constexpr float none = std::numeric_limits<float>::quiet_NaN();
    float loss = none;
    float accuracy = none;
    float val_loss = none;  // NaN when fit() had no validation set
    float val_accuracy = none;
    double seconds = 0.0;
};

struct History {
    std::vector<EpochRecord> epochs;
    bool stopped_early = false;
    // Training steps that ran as a replayed graph (FitOptions::capture_steps).
    std::size_t replayed_steps = 0;
    // Why fit stopped before its last epoch when a step went non-finite
    // (empty otherwise), and the batches it skipped for that reason.
    std::string stop_reason;
    std::size_t skipped_batches = 0;

    // CSV with a header row: epoch,loss,accuracy,val_loss,val_accuracy,seconds.
    // Written to a temporary file and renamed, so a crash leaves no half file.
    void write_csv(const std::filesystem::path& file) const {
        std::filesystem::path temporary = file;
        temporary += ".tmp";
        {
            std::ofstream out(temporary);
            out << "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n";
            for (std::size_t e = 0; e < epochs.size(); ++e) {
                const EpochRecord& r = epochs[e];
                out << e + 1 << ',' << r.loss << ',' << r.accuracy << ',' << r.val_loss << ','
                    << r.val_accuracy << ',' << r.seconds << '\n';
            }
            if (!out.flush())
                throw std::runtime_error("ctnn: cannot write history to " + temporary.string());
        }
        std::filesystem::rename(temporary, file);
    }
};

} // namespace ctnn
