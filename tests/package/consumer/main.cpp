// Compiles a network from the installed headers and trains it a few steps on
// a synthetic problem; fails unless the loss goes down and its history plots.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/plot/history.hpp>

using Net = ctnn::Sequential<ctnn::Input<8>, ctnn::Dense<16>, ctnn::ReLU, ctnn::Dense<2>,
                             ctnn::Softmax>;
static_assert(Net::param_count == 8 * 16 + 16 + 16 * 2 + 2);

int main() {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({64, 8}), xt::xtensor<float, 2>({64, 1})};
    for (std::size_t i = 0; i < 64; ++i) {
        for (std::size_t j = 0; j < 8; ++j) data.inputs(i, j) = float((i * 7 + j * 3) % 11) / 11.0f;
        data.targets(i, 0) = data.inputs(i, 0) > 0.5f ? 1.0f : 0.0f;
    }
    Net net{ctnn::Seed{1}};
    float before = ctnn::evaluate(net, data).loss;
    auto history = ctnn::fit(net, ctnn::Adam{1e-2f}, ctnn::CategoricalCrossEntropy{}, data,
                             {.epochs = 5, .batch_size = 16, .verbosity = ctnn::Verbosity::silent});
    float after = ctnn::evaluate(net, data).loss;
    std::printf("consumer: loss %.4f -> %.4f\n", before, after);

    const auto plot = std::filesystem::temp_directory_path() /
                      ("ctnn_consumer_history_" + std::to_string(::getpid()) + ".png");
    ctnn::plot::history(history, plot);
    const bool plotted = std::filesystem::file_size(plot) > 0;
    std::filesystem::remove(plot);
    return after < before && plotted ? 0 : 1;
}
