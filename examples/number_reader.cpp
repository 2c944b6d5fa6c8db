// Seed 000's task 1 (Homework 3): read a number from 0 to 254 written with
// 1-3 MNIST digits in a 28x84 image (data/number_images.hpp makes them as
// the course's generator did: each digit moved by its own random affine
// transform, cropped, the digits side by side and centred). Training images
// are made on the fly from MNIST's training digits, on a background thread
// while the network trains, new ones every epoch; the test images come from
// MNIST's test digits, and a validation set (which picks the weights kept)
// from its training digits.
//
// The four models of seed 000: LeNet; LeNet with each 5x5 convolution a
// stack of two 3x3 ones (VGG style); and two VGG-style networks, four blocks
// of 3x3 convolution and 2x2 pooling (6/16/32/32 and 32/64/128/128 filters,
// with batch normalisation; no pool after the last) and two Dense-512
// layers. ReLU and Adam as the seed, at batch 128 (the seed's 512 took more
// images to learn the same)
// with its rate on a cosine decay from Adam's default 1e-3; an epoch is
// 51,200 new images (the seed drew 256,000 an epoch for 10 epochs).
//
// The output: the number right-aligned as three symbols, each a digit or a
// blank (" 42"): Dense<33>, seen as 3 x 11 (Reshape), a softmax per symbol.
// Why not a 255-way softmax: each symbol's classifier sees every digit,
// where 255 classes would each be learnt from 1/255 of the images; and the
// answer is already the text that seed 000's adder (examples/lstm_addition)
// reads. (A decoder LSTM over the repeated features, tried first, learnt
// several times slower.) A number is read right only when all three symbols are.
//
// The wide VGG reads each test image five times, as drawn and moved one
// pixel each way, and averages its outputs (with_shifts); the table has the
// rows with and without the shifts.
// --ensemble N trains N wide VGGs (other initial weights, other training
// images) and reads with their averaged outputs: each misreads a different
// few unseen handwritings, so the average reads more than any one of them.
//
// Prints each model's summary and progress, a table (parameters, test
// accuracy, training time), the widest model's (or the ensemble's)
// misreadings, and ends with the best row's "test accuracy: NN.NN%". Writes
// number_reader_samples.png (generated images),
// number_reader_<model>_history.png, number_reader_<model>_layer1.png
// (the first convolution's maps after ReLU for one test image, which seed 000
// compared across models) and number_reader_<model>.h5 (the weights of the
// epoch with the best validation loss). Then task 2: seed 000's LSTM adder
// trained on the numbers as text, and the pipeline on 10,000 test pairs:
// both images read by the widest VGG (or the ensemble), the numbers added by
// the adder, the answer compared with the true sum.
// Usage: number_reader [--model lenet|lenet_vgg|vgg_small|vgg_wide] [--epochs N] [--ensemble N] [--bf16]
//                      [mnist-directory]
// (--model trains that one only; --epochs N replaces each model's epochs;
// --ensemble N: N wide VGGs, averaged; --bf16 runs the readers' matrix
// products in bf16 on CPUs with AMX or AVX512-BF16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/mp11/algorithm.hpp>
#include <xtensor/xview.hpp>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/number_images.hpp>
#include <ctnn/data/stream.hpp>
#include <ctnn/io/model_checkpoint.hpp>
#include <ctnn/io/save.hpp>

#include "addition_model.hpp"
#include "example_support.hpp"

namespace {

using namespace ctnn;
using data::NumberImages;

// Any feature extractor, then three 11-way answers.
template <class... Features>
using Reader = Sequential<Input<1, NumberImages::height, NumberImages::width>, Features...,
                          Dense<NumberImages::positions * NumberImages::symbols>,
                          Reshape<NumberImages::positions, NumberImages::symbols>, Softmax>;

using LeNet = Reader<Conv2D<6, 5>, ReLU, MaxPool2D<2>, Conv2D<16, 5>, ReLU, MaxPool2D<2>, Flatten, Dense<120>,
                     ReLU, Dense<84>, ReLU>;
using LeNetVgg = Reader<Conv2D<6, 3>, ReLU, Conv2D<6, 3>, ReLU, MaxPool2D<2>, Conv2D<16, 3>, ReLU, Conv2D<16, 3>,
                        ReLU, MaxPool2D<2>, Flatten, Dense<120>, ReLU, Dense<84>, ReLU>;
// 28x84 -> 14x42 -> 7x21 -> 3x10: the fourth block keeps the 3x10 map
// unpooled, ten columns for at most three digits (pooled to 1x5, each
// column mixed neighbouring digits, and the widest model read 98.50%).
template <std::size_t A, std::size_t B, std::size_t C, std::size_t D>
using Vgg = Reader<Conv2D<A, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<B, 3, 1, same>, BatchNorm, ReLU,
                   MaxPool2D<2>, Conv2D<C, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<D, 3, 1, same>,
                   BatchNorm, ReLU, Flatten, Dense<512>, ReLU, Dense<512>, ReLU>;
using SmallVgg = Vgg<6, 16, 32, 32>;
using WideVgg = Vgg<32, 64, 128, 128>;

constexpr std::size_t batch_size = 128, images_per_epoch = 51'200;
constexpr std::uint64_t train_seed = 1, validation_seed = 2, test_seed = 3, pair_seed = 4;
// Member k of an ensemble trains on the images of seed train_seed + k * step,
// none of them the validation, test or pair seed.
constexpr std::uint64_t member_seed_step = 100;

struct Images {
    data::TrainTest mnist;
    NumberImages train{mnist.train}, test{mnist.test};
    data::Dataset validation = data::number_reading_set(train, 5'000, validation_seed);
    data::Dataset test_set = data::number_reading_set(test, 10'000, test_seed);
};

struct Score {
    std::string model;
    std::size_t params;
    double accuracy;  // numbers read right, all three symbols
    double seconds;
    std::size_t epochs;
};

// The number each row of a batch of outputs spells (-1: no number).
std::vector<int> read_numbers(const xt::xtensor<float, 3>& outputs) {
    std::vector<int> numbers(outputs.shape(0));
    for (std::size_t n = 0; n < numbers.size(); ++n) {
        std::size_t symbols[NumberImages::positions];
        for (std::size_t p = 0; p < NumberImages::positions; ++p) {
            const float* row = &outputs(n, p, 0);
            symbols[p] = std::size_t(std::max_element(row, row + NumberImages::symbols) - row);
        }
        numbers[n] = NumberImages::read_symbols(symbols);
    }
    return numbers;
}

int target_number(const data::Dataset& set, std::size_t row) {
    std::size_t symbols[NumberImages::positions];
    for (std::size_t p = 0; p < NumberImages::positions; ++p) symbols[p] = std::size_t(set.targets(row, p));
    return NumberImages::read_symbols(symbols);
}

// A reader's outputs for a batch of images: one network's, or the average of several.
using ReadOutputs = std::function<xt::xtensor<float, 3>(const xt::xtensor<float, 2>&)>;

// Which of the test numbers `read` misreads, most frequent first; returns the share read right.
double print_misreadings(const std::vector<int>& read, const data::Dataset& test) {
    std::map<std::pair<int, int>, std::size_t> confusions;
    std::size_t wrong = 0;
    for (std::size_t n = 0; n < read.size(); ++n) {
        const int truth = target_number(test, n);
        if (read[n] != truth) {
            ++confusions[{truth, read[n]}];
            ++wrong;
        }
    }
    std::vector<std::pair<std::size_t, std::pair<int, int>>> ranked;
    for (const auto& [pair, count] : confusions) ranked.push_back({count, pair});
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::printf("\n%zu of %zu test numbers misread; the most frequent (true -> read, count):\n", wrong, read.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(ranked.size(), 12); ++i) {
        const auto [truth, got] = ranked[i].second;
        std::printf("  %3d -> %-4s %zu\n", truth, got < 0 ? "?" : std::to_string(got).c_str(), ranked[i].first);
    }
    return double(read.size() - wrong) / double(read.size());
}

// Task 2 and the pipeline: seed 000's adder (addition_model.hpp) trained on
// the numbers as text, then test pairs read from their images by `reader`
// and added by the adder, against their true sums.
void add_read_numbers(const ReadOutputs& reader, const Images& images) {
    const addition::Addition text = addition::make_data(2019);
    addition::Adder<LSTM>::on<backend::Cpu> adder{Seed{7}};
    std::printf("\nTask 2: seed 000's adder, an LSTM encoder-decoder over \"a+b\" as text\n");
    summary(adder, std::cout);
    constexpr std::size_t epochs = 30;
    fit(adder, Adam{2e-3f}, CategoricalCrossEntropy{}, text.train,
        {.epochs = epochs, .batch_size = 128, .seed = 42, .learning_rate_schedule = cosine_decay(2e-3f, epochs)});
    std::printf("adder: %.2f%% of %zu held-out questions answered exactly\n",
                100.0 * sequence_accuracy(adder, text.held_out).per_sequence(), text.held_out.size());

    // Pair i: test images 2i and 2i + 1.
    constexpr std::size_t pairs = 10'000;
    const data::Dataset both = data::number_reading_set(images.test, 2 * pairs, pair_seed);
    const std::vector<int> read = read_numbers(reader(both.inputs));
    xt::xtensor<float, 2> questions = xt::zeros<float>({pairs, addition::question_length * addition::symbols});
    for (std::size_t i = 0; i < pairs; ++i)
        if (read[2 * i] >= 0 && read[2 * i + 1] >= 0)
            text.codec.one_hot(addition::question(read[2 * i], read[2 * i + 1]),
                               {&questions(i, 0), addition::question_length * addition::symbols});
    const std::vector<std::string> sums = addition::answers(adder, text.codec, questions);
    std::size_t both_read = 0, right = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        const int a = target_number(both, 2 * i), b = target_number(both, 2 * i + 1);
        const bool readable = read[2 * i] >= 0 && read[2 * i + 1] >= 0;
        both_read += read[2 * i] == a && read[2 * i + 1] == b;
        right += readable && sums[i] == data::pad_left(std::to_string(a + b), addition::answer_length);
    }
    std::printf("pipeline on %zu test pairs: both numbers read right %.2f%%; sum right (read, then added by "
                "the LSTM) %.2f%%\n",
                pairs, 100.0 * double(both_read) / pairs, 100.0 * double(right) / pairs);
}

template <class Model>
using ReaderNet = typename Model::template on<backend::Cpu>;

template <class Model>
struct Trained {
    std::unique_ptr<ReaderNet<Model>> net;
    Score score;
};

// Trains one reader. Member k > 0 of an ensemble starts from other weights,
// sees other images (seeds of its own) and writes number_reader_<name>_<k+1>.h5.
template <class Model>
Trained<Model> train(const char* model, const char* name, const Images& images, std::size_t epochs, bool bf16,
                     std::size_t member = 0) {
    using Net = ReaderNet<Model>;
    auto owned = std::make_unique<Net>(Seed{7 + member}, cpu_backend(bf16));
    Net& net = *owned;
    const std::string number = member ? std::to_string(member + 1) : std::string();
    const std::string title = model + (member ? " #" + number : std::string());
    std::printf("\n%s\n", title.c_str());
    summary(net, std::cout);

    // Sample i of epoch e: image and reading targets, made on the stream's thread.
    const std::uint64_t seed = train_seed + member_seed_step * member;
    data::GeneratedStream stream(images_per_epoch, NumberImages::size, NumberImages::positions,
                                 [&, seed](std::uint64_t epoch, std::size_t index, float* image, float* targets) {
                                     const int number = images.train.draw(seed, epoch, index, image).number;
                                     NumberImages::reading_targets(number, targets);
                                 });
    const std::string stem = std::string("number_reader_") + name + (member ? "_" + number : std::string());
    ModelCheckpoint best(stem + ".h5", net);
    const auto start = std::chrono::steady_clock::now();
    const History history = fit(net, Adam{1e-3f}, CategoricalCrossEntropy{}, stream,
                                {.epochs = epochs, .batch_size = batch_size, .validation = images.validation,
                                 .seed = 42 + member, .learning_rate_schedule = cosine_decay(1e-3f, epochs),
                                 .on_epoch_end = {best}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    load_weights(stem + ".h5", net);
    write_history(history, stem);
    const std::span<const float> first_image(images.test_set.inputs.data(), NumberImages::size);
    plot_png_and_svg(stem + "_layer1", [&](const std::string& file) {
        // Layer 2 is the ReLU after the first convolution, or its BatchNorm; then 3.
        constexpr std::size_t relu =
            std::is_same_v<typename boost::mp11::mp_at_c<typename Net::layers, 1>::layer, BatchNorm> ? 3 : 2;
        plot::activations<relu>(net, first_image, file,
                             {.title = title + ": first convolution after ReLU"});
    });
    const double accuracy = sequence_accuracy(net, images.test_set).per_sequence();
    std::printf("%s: %.2f%% of test numbers read right\n", title.c_str(), 100.0 * accuracy);
    return {std::move(owned), {title, Net::param_count, accuracy, seconds, history.epochs.size()}};
}

// A batch of images moved `down` rows and `right` columns, zeros filling in.
xt::xtensor<float, 2> shifted(const xt::xtensor<float, 2>& images, int down, int right) {
    constexpr int height = int(NumberImages::height), width = int(NumberImages::width);
    xt::xtensor<float, 2> moved = xt::zeros<float>(images.shape());
    for (std::size_t n = 0; n < images.shape(0); ++n)
        for (int y = std::max(0, down); y < std::min(height, height + down); ++y)
            for (int x = std::max(0, right); x < std::min(width, width + right); ++x)
                moved(n, std::size_t(y * width + x)) = images(n, std::size_t((y - down) * width + x - right));
    return moved;
}

// Test-time augmentation: the outputs for each image and for it moved one
// pixel up, down, left and right, averaged. The generator moves each digit
// by up to 2.8 pixels, so these are images of the training distribution, and
// a digit on the edge of two readings gets five looks at it.
ReadOutputs with_shifts(ReadOutputs read) {
    return [read = std::move(read)](const xt::xtensor<float, 2>& inputs) {
        xt::xtensor<float, 3> sum = read(inputs);
        for (const auto [down, right] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}})
            sum += read(shifted(inputs, down, right));
        return xt::xtensor<float, 3>(sum / 5.0f);
    };
}

double accuracy(const ReadOutputs& read, const data::Dataset& set) {
    const std::vector<int> numbers = read_numbers(read(set.inputs));
    std::size_t right = 0;
    for (std::size_t n = 0; n < numbers.size(); ++n) right += numbers[n] == target_number(set, n);
    return double(right) / double(numbers.size());
}

// The wide VGG, or `count` of them with their outputs averaged, read with
// and without shifted copies; then the misreadings and task 2 with the
// shifted reading.
std::vector<Score> train_wide(const Images& images, std::size_t epochs, bool bf16, std::size_t count) {
    std::vector<Score> scores;
    std::vector<std::unique_ptr<ReaderNet<WideVgg>>> readers;
    for (std::size_t member = 0; member < count; ++member) {
        Trained<WideVgg> trained = train<WideVgg>("VGG 32/64/128/128", "vgg_wide", images, epochs, bf16, member);
        scores.push_back(trained.score);
        readers.push_back(std::move(trained.net));
    }
    const ReadOutputs read = [&](const xt::xtensor<float, 2>& inputs) {
        xt::xtensor<float, 3> sum = predict(*readers.front(), inputs);
        for (std::size_t k = 1; k < readers.size(); ++k) sum += predict(*readers[k], inputs);
        return xt::xtensor<float, 3>(sum / float(readers.size()));
    };
    Score all = scores.front();
    if (count > 1) {
        all = {std::to_string(count) + " x VGG 32/64/128/128", 0, accuracy(read, images.test_set), 0.0, 0};
        for (std::size_t member = 0; member < count; ++member) {
            all.params += scores[member].params;
            all.seconds += scores[member].seconds;
            all.epochs += scores[member].epochs;
        }
        std::printf("\n%s, outputs averaged: %.2f%% of test numbers read right\n", all.model.c_str(),
                    100.0 * all.accuracy);
        scores.push_back(all);
    }
    const ReadOutputs read_shifted = with_shifts(read);
    Score shifts = all;
    shifts.model = all.model + " + shifts";
    shifts.accuracy = print_misreadings(read_numbers(read_shifted(images.test_set.inputs)), images.test_set);
    std::printf("%s, outputs averaged over each image and its four one-pixel shifts: %.2f%% of test numbers "
                "read right\n",
                all.model.c_str(), 100.0 * shifts.accuracy);
    scores.push_back(shifts);
    add_read_numbers(read_shifted, images);
    return scores;
}

// A grid of generated training images with their numbers.
void plot_samples(const Images& images) {
    std::vector<plot::Tile> tiles;
    for (std::uint64_t i = 0; i < 24; ++i) {
        plot::Tile tile{"", 1, NumberImages::height, NumberImages::width, std::vector<float>(NumberImages::size)};
        tile.caption = std::to_string(images.train.draw(train_seed, 0, i, tile.values.data()).number);
        tiles.push_back(std::move(tile));
    }
    plot_png_and_svg("number_reader_samples", [&](const std::string& file) {
        plot::image_grid(tiles, file,
                         {.title = "Generated training images and their numbers", .columns = 4, .tile_pixels = 168});
    });
}

} // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string only;
    bool bf16 = false;
    std::size_t epochs = 0;  // 0: each model's own (10, and 16 for the wide VGG)
    std::size_t ensemble = 1;
    ExampleArgs where;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--model" && i + 1 < args.size()) {
            only = args[++i];
        } else if (args[i] == "--epochs" && i + 1 < args.size()) {
            epochs = std::stoul(args[++i]);
        } else if (args[i] == "--ensemble" && i + 1 < args.size()) {
            ensemble = std::stoul(args[++i]);
        } else if (args[i] == "--bf16") {
            bf16 = true;
        } else if (args[i].starts_with("--")) {
            throw std::invalid_argument(args[i] + ": not --model NAME, --epochs N, --ensemble N or --bf16");
        } else {
            where.positional.push_back(args[i]);
        }
    }
    if (!only.empty() && only != "lenet" && only != "lenet_vgg" && only != "vgg_small" && only != "vgg_wide")
        throw std::invalid_argument("--model " + only + ": not lenet, lenet_vgg, vgg_small or vgg_wide");
    if (ensemble == 0) throw std::invalid_argument("--ensemble 0: an ensemble needs one reader or more");
    auto epochs_or = [&](std::size_t own) { return epochs ? epochs : own; };
    Images images{data::load_mnist(example_data_dir(where, "mnist"))};
    print_blas();
    std::printf("training images made on the fly from %zu MNIST digits; %zu validation and %zu test numbers\n",
                images.mnist.train.size(), images.validation.size(), images.test_set.size());
    plot_samples(images);

    std::vector<Score> scores;
    auto wanted = [&](const char* name) { return only.empty() || only == name; };
    if (wanted("lenet")) scores.push_back(train<LeNet>("LeNet", "lenet", images, epochs_or(10), bf16).score);
    if (wanted("lenet_vgg"))
        scores.push_back(train<LeNetVgg>("LeNet, 3x3 stacks", "lenet_vgg", images, epochs_or(10), bf16).score);
    if (wanted("vgg_small"))
        scores.push_back(train<SmallVgg>("VGG 6/16/32/32", "vgg_small", images, epochs_or(10), bf16).score);
    if (wanted("vgg_wide"))
        for (const Score& score : train_wide(images, epochs_or(16), bf16, ensemble)) scores.push_back(score);

    std::printf("\n%zu test numbers (MNIST's test digits), batch %zu:\n", images.test_set.size(), batch_size);
    std::printf("  %-32s %9s %7s %14s %9s\n", "model", "params", "epochs", "test accuracy", "train s");
    for (const Score& s : scores)
        std::printf("  %-32s %9zu %7zu %13.2f%% %9.0f\n", s.model.c_str(), s.params, s.epochs, 100.0 * s.accuracy,
                    s.seconds);
    const Score& best = *std::max_element(scores.begin(), scores.end(),
                                          [](const Score& a, const Score& b) { return a.accuracy < b.accuracy; });
    std::printf("best: %s\ntest accuracy: %.2f%%\n", best.model.c_str(), 100.0 * best.accuracy);
    return 0;
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
