// What every example shares: where its data is, and how it reports.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/plot.hpp>

#ifndef CTNN_EXAMPLE_DATA_DIR
#define CTNN_EXAMPLE_DATA_DIR "data"
#endif

// The first command-line argument, else $CTNN_DATA_DIR/<data_set>, else the
// folder scripts/setup fills (fixed at build time).
inline std::filesystem::path example_data_dir(int argc, char** argv, const char* data_set) {
    if (argc > 1) return argv[1];
    if (const char* root = std::getenv("CTNN_DATA_DIR")) return std::filesystem::path(root) / data_set;
    return std::filesystem::path(CTNN_EXAMPLE_DATA_DIR) / data_set;
}

inline void print_blas() {
    const auto& blas = ctnn::backend::cpu::blas_info();
    std::printf("BLAS: %s (%s kernel, %s, %d threads)\n", blas.library.c_str(), blas.core.c_str(),
                blas.threading.c_str(), blas.threads);
}

// Every plot twice: <stem>.png to look at, <stem>.svg to put in a report.
template <class Plot>
void plot_png_and_svg(const std::string& stem, Plot&& plot) {
    for (const char* extension : {".png", ".svg"}) plot(stem + extension);
}

// <name>_history.csv and its plot, <name>_history.png and .svg.
inline void write_history(const ctnn::History& history, const std::string& name) {
    history.write_csv(name + "_history.csv");
    plot_png_and_svg(name + "_history", [&](const std::string& file) {
        ctnn::plot::history(history, file, {.title = name + ": training history"});
    });
}

// The confusion matrix and classification report (and, given a name, its
// heatmap <name>_confusion.png and .svg), then the line every example ends
// with: "test accuracy: NN.NN%".
template <class Net>
void report_test_accuracy(Net& net, const ctnn::data::Dataset& test, const std::string& name = {}) {
    auto score = ctnn::evaluate(net, test);
    score.confusion.print(std::cout);
    if (!name.empty())
        plot_png_and_svg(name + "_confusion", [&](const std::string& file) {
            ctnn::plot::confusion_matrix(score.confusion, file,
                                         {.title = name + ": confusion matrix on the test set"});
        });
    std::printf("test loss: %.4f\ntest accuracy: %.2f%%\n", score.loss, 100.0 * score.accuracy);
}
