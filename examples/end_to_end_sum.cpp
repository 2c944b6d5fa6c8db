// Seed 000's bonus (Homework 3): ONE network from two number images (28x84,
// 1-3 MNIST digits each, data/number_images.hpp) to their sum, trained from
// (images, sum) pairs only: it is never told either number.
//
// The network reads both images with one reader, weights shared (a siamese
// network: Shared<...>), joins the two readings (Concatenate) and a head
// writes the sum, 0..508, as three digits with leading zeros ("042"), a
// 10-way softmax per digit. The reader is number_reader's widest VGG up to
// its features (four blocks of 3x3 convolution, BatchNorm and ReLU; 2x2
// pooling after the first three), which read 98.66% of single numbers there.
// As in Keras:
//
//   reader = Sequential([...conv blocks..., Flatten(), Dense(512, 'relu')])
//   a, b = Input((1, 28, 84)), Input((1, 28, 84))
//   x = Concatenate()([reader(a), reader(b)])
//   ...Dense(512, 'relu'), Dense(30), Reshape((3, 10)), Softmax()
//
// Training pairs are made on the fly from MNIST's training digits, on a
// background thread while the network trains, new ones every epoch; the
// validation pairs (which pick the weights kept) from its training digits,
// the test pairs from its test digits. Adam from 1e-3 on a cosine decay,
// batch 64 pairs.
//
// Prints the summary, progress, the most frequent wrong sums (true -> given),
// and ends with "exact-match accuracy: NN.NN%" over the test pairs. Writes
// end_to_end_sum_history.png, end_to_end_sum_reader_layer1.png (the shared
// reader's first maps, from branch_network<1>) and end_to_end_sum.h5 (the
// weights of the epoch with the best validation loss).
// Usage: end_to_end_sum [--small] [--bf16] [--epochs N] [--pairs-per-epoch N] [mnist-directory]
// (--small: number_reader's 6/16/32/32 VGG as the reader, for a quick run;
// --bf16: matrix products in bf16 on CPUs with AMX or AVX512-BF16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/number_images.hpp>
#include <ctnn/data/stream.hpp>
#include <ctnn/io/model_checkpoint.hpp>
#include <ctnn/io/save.hpp>

#include "example_support.hpp"

namespace {

using namespace ctnn;
using data::NumberImages;

using Image = Shape<1, NumberImages::height, NumberImages::width>;
constexpr std::size_t sum_digits = 3;  // 0..508

template <std::size_t A, std::size_t B, std::size_t C, std::size_t D>
using VggReader = Branch<Conv2D<A, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<B, 3, 1, same>, BatchNorm, ReLU,
                         MaxPool2D<2>, Conv2D<C, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<D, 3, 1, same>,
                         BatchNorm, ReLU, Flatten, Dense<512>, ReLU>;

template <class Reader>
using SumNet = Sequential<Inputs<Image, Image>, Shared<Reader>, Concatenate, Dense<512>, ReLU, Dense<sum_digits * 10>,
                          Reshape<sum_digits, 10>, Softmax>;

constexpr std::uint64_t train_seed = 11, validation_seed = 12, test_seed = 13;

// The sum's digits, hundreds first, as class indices.
void sum_targets(int sum, float* targets) {
    targets[0] = float(sum / 100);
    targets[1] = float(sum / 10 % 10);
    targets[2] = float(sum % 10);
}

// `count` pairs from `images`: each row the two images side by side, each
// target the digits of their sum.
data::Dataset sum_set(const NumberImages& images, std::size_t count, std::uint64_t seed) {
    data::Dataset set{xt::zeros<float>({count, 2 * NumberImages::size}), xt::zeros<float>({count, sum_digits})};
    for (std::size_t i = 0; i < count; ++i) {
        const int a = images.draw(seed, 0, 2 * i, &set.inputs(i, 0)).number;
        const int b = images.draw(seed, 0, 2 * i + 1, &set.inputs(i, NumberImages::size)).number;
        sum_targets(a + b, &set.targets(i, 0));
    }
    return set;
}

int digits_value(const float* digits) { return int(digits[0]) * 100 + int(digits[1]) * 10 + int(digits[2]); }

// Which sums come out wrong, most frequent first.
template <class Net>
void print_wrong_sums(Net& net, const data::Dataset& test) {
    const xt::xtensor<float, 3> out = predict(net, test.inputs);
    std::map<std::pair<int, int>, std::size_t> confusions;
    std::size_t wrong = 0;
    for (std::size_t n = 0; n < test.size(); ++n) {
        float given[sum_digits];
        for (std::size_t d = 0; d < sum_digits; ++d) {
            const float* row = &out(n, d, 0);
            given[d] = float(std::max_element(row, row + 10) - row);
        }
        const int truth = digits_value(&test.targets(n, 0)), got = digits_value(given);
        if (got != truth) {
            ++confusions[{truth, got}];
            ++wrong;
        }
    }
    std::vector<std::pair<std::size_t, std::pair<int, int>>> ranked;
    for (const auto& [pair, count] : confusions) ranked.push_back({count, pair});
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::printf("\n%zu of %zu test sums wrong; the most frequent (true -> given, count):\n", wrong, test.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(ranked.size(), 12); ++i)
        std::printf("  %3d -> %3d  %zu\n", ranked[i].second.first, ranked[i].second.second, ranked[i].first);
}

struct Plan {
    std::size_t epochs = 20, pairs_per_epoch = 51'200, batch = 64;
    bool bf16 = false;
};

template <class Reader>
int run(const data::TrainTest& mnist, const Plan& plan) {
    using Net = SumNet<Reader>::template on<backend::Cpu>;
    const NumberImages train_images(mnist.train), test_images(mnist.test);
    const data::Dataset validation = sum_set(train_images, 5'000, validation_seed);
    const data::Dataset test = sum_set(test_images, 10'000, test_seed);
    Net net{Seed{7}, cpu_backend(plan.bf16)};
    summary(net, std::cout);
    std::printf("%zu training pairs an epoch, made on the fly; %zu validation and %zu test pairs\n",
                plan.pairs_per_epoch, validation.size(), test.size());

    // Pair i of epoch e: images 2i and 2i + 1 of that epoch, and their sum.
    data::GeneratedStream stream(plan.pairs_per_epoch, 2 * NumberImages::size, sum_digits,
                                 [&](std::uint64_t epoch, std::size_t index, float* images, float* targets) {
                                     const int a = train_images.draw(train_seed, epoch, 2 * index, images).number;
                                     const int b = train_images
                                                       .draw(train_seed, epoch, 2 * index + 1,
                                                             images + NumberImages::size)
                                                       .number;
                                     sum_targets(a + b, targets);
                                 });
    ModelCheckpoint best("end_to_end_sum.h5", net);
    const auto start = std::chrono::steady_clock::now();
    const History history = fit(net, Adam{1e-3f}, CategoricalCrossEntropy{}, stream,
                                {.epochs = plan.epochs, .batch_size = plan.batch, .validation = validation,
                                 .seed = 42, .learning_rate_schedule = cosine_decay(1e-3f, plan.epochs),
                                 .on_epoch_end = {best}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    load_weights("end_to_end_sum.h5", net);
    write_history(history, "end_to_end_sum");
    // The shared reader alone (a network of its own), on the first test image.
    auto reader = branch_network<1>(net);
    const std::span<const float> first_image(test.inputs.data(), NumberImages::size);
    plot_png_and_svg("end_to_end_sum_reader_layer1", [&](const std::string& file) {
        plot::activations<3>(reader, first_image, file, {.title = "Shared reader: first maps after ReLU"});
    });
    print_wrong_sums(net, test);
    std::printf("training: %.0f s for %zu epochs\n", seconds, history.epochs.size());
    std::printf("exact-match accuracy: %.2f%%\n", 100.0 * sequence_accuracy(net, test).per_sequence());
    return 0;
}

} // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    Plan plan;
    bool small = false;
    ExampleArgs where;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--small") {
            small = true;
        } else if (args[i] == "--bf16") {
            plan.bf16 = true;
        } else if ((args[i] == "--epochs" || args[i] == "--pairs-per-epoch") && i + 1 < args.size()) {
            const std::size_t value = std::stoul(args[i + 1]);
            (args[i] == "--epochs" ? plan.epochs : plan.pairs_per_epoch) = value;
            ++i;
        } else if (args[i].starts_with("--")) {
            throw std::invalid_argument(args[i] + ": not --small, --bf16, --epochs N or --pairs-per-epoch N");
        } else {
            where.positional.push_back(args[i]);
        }
    }
    const data::TrainTest mnist = data::load_mnist(example_data_dir(where, "mnist"));
    print_blas();
    return small ? run<VggReader<6, 16, 32, 32>>(mnist, plan) : run<VggReader<32, 64, 128, 128>>(mnist, plan);
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
