// Seed 003, question 4: GaussianNoise(0.1), Conv2D(45, 5x5, ReLU, L2 0.001),
// MaxPool 2, Conv2D(60, 5x5, ReLU), MaxPool 2, Flatten, Dense(10, softmax).
// Usage: mnist_cnn [--device cpu|thrust-host|cuda] [--distributed] [mnist-directory]
// --distributed trains data-parallel on the processes mpirun starts, e.g.
//   mpirun -np 2 -x OMP_NUM_THREADS=1 build/examples/mnist_cnn --distributed
// Each process takes 128 / N samples of every batch of 128, so the run is the
// single-process one (the same batches, dropout noise and steps) but for the
// order in which the gradients' sums are added.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>

#include <ctnn/ctnn.hpp>

#include "example_support.hpp"

using Cnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::GaussianNoise, ctnn::Conv2D<45, 5>,
                             ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Conv2D<60, 5>, ctnn::ReLU,
                             ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<10>, ctnn::Softmax>;

template <class Backend>
int run(const ExampleArgs& args) {
    const Processes processes(args);
    typename Cnn::on<Backend> net{ctnn::GaussianNoise{0.1f}, ctnn::Conv2D<45, 5>{.l2 = 0.001f},
                                  ctnn::Seed{42}};
    if (processes.first()) {
        ctnn::summary(net, std::cout);
        print_backend(net);
        if (processes.size() > 1) std::printf("data-parallel over %d processes (MPI)\n", processes.size());
    }

    auto data = ctnn::data::load_mnist(example_data_dir(args, "mnist"));
    constexpr std::size_t epochs = 12, batch_size = 128;
    if (batch_size % std::size_t(processes.size()) != 0)
        throw std::invalid_argument("mnist_cnn --distributed: the batch of 128 does not split evenly over " +
                                    std::to_string(processes.size()) + " processes");
    auto history = ctnn::fit(net, ctnn::RMSprop{1e-3f}, ctnn::CategoricalCrossEntropy{}, data.train,
                             {.epochs = epochs,
                              .batch_size = batch_size / std::size_t(processes.size()),
                              .validation = data.test,
                              .seed = 42,
                              .learning_rate_schedule = ctnn::cosine_decay(1e-3f, epochs),
                              // mpirun gives each process a pseudo-terminal, whatever it
                              // writes to: a bar would fill a log with redrawn lines.
                              .verbosity = processes.size() > 1 ? ctnn::Verbosity::lines
                                                                : ctnn::Verbosity::automatic,
                              .distributed = processes.data_parallel()});
    // Every process holds the same weights now; the first reports.
    if (!processes.first()) return 0;
    write_history(history, "mnist_cnn");

    // What the first convolution (layer 2) learnt, and its maps after the
    // ReLU (layer 3) for the first test digit. Convolution, ReLU and pooling
    // run as one pass; plot::activations asks the network to keep the maps
    // inside it for that one input.
    plot_png_and_svg("mnist_cnn_kernels", [&](const std::string& file) {
        ctnn::plot::kernels<2>(net, file, {.colormap = ctnn::plot::Colormap::diverging});
    });
    const std::span<const float> digit(data.test.inputs.data(), Cnn::input_shape::size);
    plot_png_and_svg("mnist_cnn_activations", [&](const std::string& file) {
        ctnn::plot::activations<3>(net, digit, file);
    });

    report_test_accuracy(net, data.test, "mnist_cnn");
    return 0;
}

CTNN_EXAMPLE_MAIN(run)
