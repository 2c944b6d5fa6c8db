// fit()'s report: on a terminal a progress bar redrawn in place with an ETA;
// elsewhere (logs, CI) one plain line per epoch.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <string>

#include "ctnn/training/history.hpp"

namespace ctnn {

enum class Verbosity {
    automatic,  // a bar when writing to a terminal, lines otherwise
    bar,
    lines,
    silent,
};

class Progress {
public:
    Progress(std::ostream& out, Verbosity verbosity, std::size_t epochs, std::size_t steps)
        : out_(out), epochs_(epochs), steps_(steps), mode_(resolve(out, verbosity)) {}

    void begin_epoch(std::size_t epoch) {
        epoch_ = epoch;
        epoch_start_ = clock::now();
        last_draw_ = epoch_start_ - std::chrono::seconds(1);
    }

    // Whether step(done, ...) would draw: fit reads the figures from the
    // device only then.
    bool draws(std::size_t done) const {
        if (mode_ != Verbosity::bar) return false;
        return done >= steps_ || clock::now() - last_draw_ >= std::chrono::milliseconds(100);
    }

    void step(std::size_t done, float loss, float accuracy) {
        if (!draws(done)) return;
        last_draw_ = clock::now();
        double elapsed = seconds_since(epoch_start_);
        double eta = done ? elapsed * double(steps_ - done) / double(done) : 0.0;
        constexpr std::size_t width = 30;
        std::size_t filled = steps_ ? width * done / steps_ : width;
        std::string bar(filled, '=');
        if (filled < width) bar += '>' + std::string(width - filled - 1, '.');
        char line[256];
        std::snprintf(line, sizeof line, "\r%s %zu/%zu [%s] ETA %5.1fs - loss %.4f - accuracy %.4f",
                      epoch_label().c_str(), done, steps_, bar.c_str(), eta, loss, accuracy);
        out_ << line << std::flush;
    }

    void end_epoch(const EpochRecord& record) {
        if (mode_ == Verbosity::silent) return;
        char line[256];
        int n = std::snprintf(line, sizeof line, "%s%s - %.2fs - loss %.4f - accuracy %.4f",
                              mode_ == Verbosity::bar ? "\r\033[K" : "", epoch_label().c_str(),
                              record.seconds, record.loss, record.accuracy);
        if (!std::isnan(record.val_loss))
            std::snprintf(line + n, sizeof line - std::size_t(n),
                          " - val_loss %.4f - val_accuracy %.4f", record.val_loss,
                          record.val_accuracy);
        out_ << line << '\n' << std::flush;
    }

    void note(const std::string& text) {
        if (mode_ != Verbosity::silent) out_ << text << '\n' << std::flush;
    }

private:
    using clock = std::chrono::steady_clock;

    static Verbosity resolve(std::ostream& out, Verbosity verbosity) {
        if (verbosity != Verbosity::automatic) return verbosity;
        bool terminal = &out == &std::cout && isatty(STDOUT_FILENO);
        return terminal ? Verbosity::bar : Verbosity::lines;
    }
    static double seconds_since(clock::time_point start) {
        return std::chrono::duration<double>(clock::now() - start).count();
    }
    std::string epoch_label() const {
        return "Epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs_);
    }

    std::ostream& out_;
    std::size_t epochs_;
    std::size_t steps_;
    Verbosity mode_;
    std::size_t epoch_ = 0;
    clock::time_point epoch_start_{};
    clock::time_point last_draw_{};
};

} // namespace ctnn
