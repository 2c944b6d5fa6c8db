// Seed 003's hyper-parameter sweeps with its one-hidden-layer MLP (784-N-10,
// ReLU, plain SGD at Keras's default batch of 32), each point trained several
// times with its own seed:
//   Q2B  learning rate 0.001 ... 1 with 100 hidden neurons
//   Q2C  learning rate x hidden neurons (10 ... 1000)
//   Q3A  Gaussian noise on the input, standard deviation 0.1, 1, 10
//   Q3B  L2 regularisation of the hidden layer, 0.001 ... 0.1 (test loss and accuracy)
// By default a quick version: the first 10,000 training images, 3 epochs, 2
// runs per point and a smaller Q2C grid. --full runs the seed's settings:
// all 60,000 images, 10 epochs for Q2 and 30 for Q3, Q2B's 3 runs per point,
// the whole Q2C grid (for hours on a small machine).
// Each sweep prints its table and writes sweep_<name>.csv, .png and .svg.
// Usage: sweeps [--full] [mnist-directory]
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xview.hpp>

#include <ctnn/ctnn.hpp>

#include "example_support.hpp"

namespace {

template <std::size_t Hidden>
using Mlp = ctnn::Sequential<ctnn::Input<784>, ctnn::Dense<Hidden>, ctnn::ReLU, ctnn::Dense<10>,
                             ctnn::Softmax>;
using NoisyMlp = ctnn::Sequential<ctnn::Input<784>, ctnn::GaussianNoise, ctnn::Dense<100>,
                                  ctnn::ReLU, ctnn::Dense<10>, ctnn::Softmax>;

// Seed 003's hidden sizes; Dense<N> needs N at compile time, so a run picks
// its network from this list.
constexpr std::array<std::size_t, 9> hidden_sizes{10, 25, 50, 100, 150, 250, 500, 750, 1000};

struct Settings {
    std::size_t train_samples;  // the first ones of MNIST's training set; 0 for all
    std::size_t q2_epochs, q3_epochs;
    std::size_t q2b_repeats, other_repeats;
    std::vector<double> q2c_rates, q2c_hidden;
};

const Settings quick{10'000, 3, 3, 2, 2, {0.001, 0.01, 0.1}, {10, 50, 100, 250, 1000}};
const Settings full{
    0, 10, 30, 3, 1, {0.001, 0.005, 0.01, 0.05, 0.1}, {10, 25, 50, 100, 150, 250, 500, 750, 1000}};

ctnn::data::Dataset first_samples(const ctnn::data::Dataset& data, std::size_t count) {
    if (count == 0 || count >= data.size()) return data;
    auto rows = xt::range(0, count);
    return {xt::view(data.inputs, rows, xt::all()), xt::view(data.targets, rows, xt::all())};
}

// Trains with SGD and scores on the test set.
template <class Net>
ctnn::Evaluation train(Net& net, double learning_rate, std::size_t epochs,
                       const ctnn::data::TrainTest& data, std::uint64_t seed) {
    ctnn::fit(
        net, ctnn::SGD{float(learning_rate)}, ctnn::CategoricalCrossEntropy{}, data.train,
        {.epochs = epochs, .batch_size = 32, .seed = seed, .verbosity = ctnn::Verbosity::silent});
    return ctnn::evaluate(net, data.test);
}

double mlp_accuracy(std::size_t hidden, double learning_rate, std::size_t epochs,
                    const ctnn::data::TrainTest& data, std::uint64_t seed) {
    std::size_t index = 0;
    while (index < hidden_sizes.size() && hidden_sizes[index] != hidden) ++index;
    if (index == hidden_sizes.size())
        throw std::invalid_argument("sweeps: no network with " + std::to_string(hidden) +
                                    " hidden neurons");
    return boost::mp11::mp_with_index<hidden_sizes.size()>(index, [&](auto i) {
        Mlp<hidden_sizes[i]> net{ctnn::Seed{seed}};
        return double(train(net, learning_rate, epochs, data, seed).accuracy);
    });
}

// The table, the CSV and the plot of one sweep.
void report(const ctnn::SweepResult& result, const std::string& name,
            ctnn::plot::SweepOptions plot) {
    std::printf("\n");
    result.print(std::cout);
    result.write_csv("sweep_" + name + ".csv");
    plot.y_scale = 100.0;
    plot.y_label = plot.metric + " (%)";
    plot_png_and_svg("sweep_" + name,
                     [&](const std::string& file) { ctnn::plot::sweep(result, file, plot); });
}

} // namespace

int main(int argc, char** argv) try {
    const bool run_full = argc > 1 && std::string_view(argv[1]) == "--full";
    if (run_full) {
        argv[1] = argv[0];
        ++argv;
        --argc;
    }
    const Settings& settings = run_full ? full : quick;
    print_blas();
    auto mnist = ctnn::data::load_mnist(example_data_dir(argc, argv, "mnist"));
    const ctnn::data::TrainTest data{first_samples(mnist.train, settings.train_samples),
                                     mnist.test};
    std::printf("%s: %zu training images, %zu test images\n",
                run_full ? "full" : "quick (--full for the seed's settings)", data.train.size(),
                data.test.size());
    const std::string accuracy = "test accuracy";
    std::size_t runs = 0;
    double seconds = 0.0;
    auto tally = [&](const ctnn::SweepResult& result) {
        runs += result.cells.size() * result.repeats;
        seconds += result.seconds;
    };

    std::printf("\nQ2B: learning rate, 100 hidden neurons, %zu epochs\n", settings.q2_epochs);
    auto rates = ctnn::sweep({{"learning rate", {0.001, 0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0}}},
                             [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
                                 return mlp_accuracy(100, p["learning rate"], settings.q2_epochs,
                                                     data, seed);
                             },
                             {.repeats = settings.q2b_repeats, .seed = 42, .metric = accuracy});
    report(
        rates, "learning_rate",
        {.metric = accuracy, .x = "learning rate", .title = "Q2B: test accuracy by learning rate"});
    tally(rates);

    std::printf("\nQ2C: learning rate x hidden neurons, %zu epochs\n", settings.q2_epochs);
    auto grid = ctnn::sweep(
        {{"hidden neurons", settings.q2c_hidden}, {"learning rate", settings.q2c_rates}},
        [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
            return mlp_accuracy(std::size_t(p["hidden neurons"]), p["learning rate"],
                                settings.q2_epochs, data, seed);
        },
        {.repeats = settings.other_repeats, .seed = 42, .metric = accuracy});
    report(grid, "hidden_neurons",
           {.metric = accuracy,
            .x = "hidden neurons",
            .series = "learning rate",
            .title = "Q2C: test accuracy by hidden neurons, one line per learning rate"});
    std::printf("\n");
    grid.print_table(std::cout, accuracy, "hidden neurons", "learning rate");
    tally(grid);

    std::printf(
        "\nQ3A: Gaussian noise on the input, 100 hidden neurons, learning rate 0.1, %zu epochs\n",
        settings.q3_epochs);
    auto noise = ctnn::sweep(
        {{"noise stddev", {0.1, 1.0, 10.0}}},
        [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
            NoisyMlp net{ctnn::GaussianNoise{float(p["noise stddev"])}, ctnn::Seed{seed}};
            return double(train(net, 0.1, settings.q3_epochs, data, seed).accuracy);
        },
        {.repeats = settings.other_repeats, .seed = 42, .metric = accuracy});
    report(noise, "noise",
           {.metric = accuracy, .x = "noise stddev", .title = "Q3A: test accuracy by input noise"});
    tally(noise);

    std::printf(
        "\nQ3B: L2 on the hidden layer, 100 hidden neurons, learning rate 0.1, %zu epochs\n",
        settings.q3_epochs);
    auto l2 =
        ctnn::sweep({{"L2", {0.001, 0.005, 0.01, 0.05, 0.1}}},
                    [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
                        Mlp<100> net{ctnn::Dense<100>{.l2 = float(p["L2"])}, ctnn::Seed{seed}};
                        auto score = train(net, 0.1, settings.q3_epochs, data, seed);
                        return ctnn::Metrics{{"test loss", score.loss}, {accuracy, score.accuracy}};
                    },
                    {.repeats = settings.other_repeats, .seed = 42});
    report(l2, "l2", {.metric = accuracy, .x = "L2", .title = "Q3B: test accuracy by L2 factor"});
    tally(l2);

    const ctnn::SweepCell& best = grid.best(accuracy);
    std::printf("\n%zu runs in %.0f s; best of Q2C: %s, test accuracy: %.2f%%\n", runs, seconds,
                best.point.label().c_str(), 100.0 * best.spread[grid.metric_index(accuracy)].mean);
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
