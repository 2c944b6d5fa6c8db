// Seed 000's bonus (Homework 3): ONE network from two number images (28x84,
// 1-3 MNIST digits each, data/number_images.hpp) to their sum, trained from
// (images, sum) pairs only: it is never told either number, nor a digit.
//
// The network reads both images with one reader, weights shared (a siamese
// network: Shared<...>), into the logits of three digits each (hundreds,
// tens, ones), and SumOfNumbers turns the two readings into the probability
// of every sum, 0..1998, by the carries of written addition; a Softmax makes
// them the output, and cross-entropy on the true sum trains the reader
// through it. The reader is number_reader's widest VGG (four blocks of 3x3
// convolution, BatchNorm and ReLU; 2x2 pooling after the first three, then
// Dense 512). As in Keras (SumOfNumbers a Lambda layer there):
//
//   reader = Sequential([...conv blocks..., Flatten(), Dense(512, 'relu'),
//                        Dense(30), Reshape((3, 10))])
//   a, b = Input((1, 28, 84)), Input((1, 28, 84))
//   sum = Softmax()(SumOfNumbers()([reader(a), reader(b)]))
//
// Why the addition is written in: `--head learned` is the first version of
// this example, a head of Dense layers over the two readers' features
// (Concatenate, Dense 512, the sum's three digits), which must learn to read
// and to add at once; 20 epochs gave 92.76% of test sums exact, most wrong
// ones a carry (259 -> 269). With the addition written in, every wrong sum's
// gradient goes to the digits that would explain the right one.
//
// Why the targets are spread at first (--spread, 2 by default): trained on
// the exact sum from the start, the reader learns to read each ones digit d
// as "d - 1 or d + 1", half each. That puts half of the probability on the
// right sum whatever the digits, and no small step away from it does better:
// both readings would have to move to d at once (on the small reader, 16
// epochs of 12,800 pairs: 68% of test sums exact, 0.2% of numbers read
// right). A target spread as a Gaussian around the sum (standard deviation 2,
// falling to 0 at half the epochs, then the exact sum) rewards the sums next
// to the right one, which only a reading of d reaches: the same run then read
// 94.6% of the test numbers and got 89.5% of the sums.
//
// Training pairs are made on the fly from MNIST's training digits, on a
// background thread while the network trains, new ones every epoch; the
// validation pairs (which pick the weights kept) from its training digits,
// the test pairs from its test digits. Adam from 1e-3 on a cosine decay,
// batch 64 pairs.
//
// Prints the summary, progress, the most frequent wrong sums (true -> given),
// how many single test numbers the shared reader alone reads right, and ends
// with "exact-match accuracy: NN.NN%" over the test pairs. Writes
// end_to_end_sum_history.png, end_to_end_sum_reader_layer1.png (the shared
// reader's first maps, from branch_network<1>) and end_to_end_sum.h5 (the
// weights of the epoch with the best validation loss).
// Usage: end_to_end_sum [--small] [--bf16] [--head sum_of_numbers|learned] [--spread S]
//                       [--epochs N] [--pairs-per-epoch N] [mnist-directory]
// (--small: number_reader's 6/16/32/32 VGG as the reader, for a quick run;
// --bf16: matrix products in bf16 on CPUs with AMX or AVX512-BF16;
// --spread 0: the exact sum from the first epoch).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xstrided_view.hpp>

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
constexpr std::size_t digits = 3;  // a sum's (0..508) and a number's (0..254)

template <std::size_t A, std::size_t B, std::size_t C, std::size_t D, class... Tail>
using VggReader = Branch<Conv2D<A, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<B, 3, 1, same>, BatchNorm, ReLU,
                         MaxPool2D<2>, Conv2D<C, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>, Conv2D<D, 3, 1, same>,
                         BatchNorm, ReLU, Flatten, Dense<512>, ReLU, Tail...>;

int most_likely(const float* row, std::size_t count) { return int(std::max_element(row, row + count) - row); }

// The number that rows of ten digit scores spell, most significant first.
int spelled(const float* digit_rows) {
    int number = 0;
    for (std::size_t d = 0; d < digits; ++d) number = 10 * number + most_likely(digit_rows + d * 10, 10);
    return number;
}

// The head after the shared reader, what it is trained on and how its
// output spells the sum. The learned one: Dense layers over both readers'
// features, the sum as three digits.
struct LearnedHead {
    template <std::size_t A, std::size_t B, std::size_t C, std::size_t D>
    using Net = Sequential<Inputs<Image, Image>, Shared<VggReader<A, B, C, D>>, Concatenate, Dense<512>, ReLU,
                           Dense<digits * 10>, Reshape<digits, 10>, Softmax>;
    static constexpr bool reads_digits = false;
    // The sum's digits, hundreds first, as class indices.
    static constexpr std::size_t target_width = digits;
    static void target(int sum, float, float* targets) {
        targets[0] = float(sum / 100);
        targets[1] = float(sum / 10 % 10);
        targets[2] = float(sum % 10);
    }
    static int sum_of(const float* output) { return spelled(output); }
};

// The written one: three digits' logits per reader, added by SumOfNumbers.
struct SumOfNumbersHead {
    template <std::size_t A, std::size_t B, std::size_t C, std::size_t D>
    using Net = Sequential<Inputs<Image, Image>, Shared<VggReader<A, B, C, D, Dense<digits * 10>, Reshape<digits, 10>>>,
                           SumOfNumbers, Softmax>;
    static constexpr bool reads_digits = true;
    static constexpr std::size_t sums = 2 * 1000 - 1, target_width = sums;  // 0..1998
    // The sum as a distribution: all of it on the sum when `spread` is 0,
    // else a Gaussian of that standard deviation around it.
    static void target(int sum, float spread, float* targets) {
        std::fill(targets, targets + sums, 0.0f);
        if (spread == 0.0f) {
            targets[sum] = 1.0f;
            return;
        }
        const int reach = int(std::ceil(4.0f * spread));
        float total = 0.0f;
        for (int s = std::max(0, sum - reach); s <= std::min(int(sums) - 1, sum + reach); ++s)
            total += targets[s] = std::exp(-0.5f * float((s - sum) * (s - sum)) / (spread * spread));
        for (int s = std::max(0, sum - reach); s <= std::min(int(sums) - 1, sum + reach); ++s) targets[s] /= total;
    }
    static int sum_of(const float* output) { return most_likely(output, sums); }
};

constexpr std::uint64_t train_seed = 11, validation_seed = 12, test_seed = 13;

// `count` pairs from `images`: each row the two images side by side, each
// target their sum as the head wants it; `numbers` gets the two numbers.
template <class Head>
data::Dataset sum_set(const NumberImages& images, std::size_t count, std::uint64_t seed,
                      std::vector<int>* numbers = nullptr) {
    data::Dataset set{xt::zeros<float>({count, 2 * NumberImages::size}), xt::zeros<float>({count, Head::target_width})};
    for (std::size_t i = 0; i < count; ++i) {
        const int a = images.draw(seed, 0, 2 * i, &set.inputs(i, 0)).number;
        const int b = images.draw(seed, 0, 2 * i + 1, &set.inputs(i, NumberImages::size)).number;
        Head::target(a + b, 0.0f, &set.targets(i, 0));
        if (numbers) numbers->insert(numbers->end(), {a, b});
    }
    return set;
}

// The exact-match accuracy, after printing which sums come out wrong, most
// frequent first.
template <class Head, class Net>
double exact_sums(Net& net, const data::Dataset& test, const std::vector<int>& numbers) {
    const auto out = predict(net, test.inputs);
    const std::size_t width = Net::output_shape::size;
    std::map<std::pair<int, int>, std::size_t> confusions;
    std::size_t wrong = 0;
    for (std::size_t n = 0; n < test.size(); ++n) {
        const int truth = numbers[2 * n] + numbers[2 * n + 1], got = Head::sum_of(out.data() + n * width);
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
    return 1.0 - double(wrong) / double(test.size());
}

// A reader of digits alone on the test pairs' images: the number its three
// digits spell, against the number drawn.
template <class Reader>
double reading_accuracy(Reader& reader, const data::Dataset& test, const std::vector<int>& numbers) {
    const xt::xtensor<float, 2> images = xt::reshape_view(test.inputs, {2 * test.size(), NumberImages::size});
    const xt::xtensor<float, 3> read = predict(reader, images);
    std::size_t right = 0;
    for (std::size_t n = 0; n < numbers.size(); ++n) right += spelled(&read(n, 0, 0)) == numbers[n];
    return double(right) / double(numbers.size());
}

struct Plan {
    std::size_t epochs = 20, pairs_per_epoch = 51'200, batch = 64;
    bool bf16 = false;
    float first_spread = 2.0f;
    // The targets' standard deviation in epoch e (from 0): first_spread,
    // falling linearly to 0 at half the epochs.
    float spread(std::size_t epoch) const {
        const float left = 1.0f - 2.0f * float(epoch) / float(epochs);
        return left > 0.0f ? first_spread * left : 0.0f;
    }
};

template <class Head, std::size_t A, std::size_t B, std::size_t C, std::size_t D>
int run(const data::TrainTest& mnist, const Plan& plan) {
    using Net = typename Head::template Net<A, B, C, D>::template on<backend::Cpu>;
    const NumberImages train_images(mnist.train), test_images(mnist.test);
    const data::Dataset validation = sum_set<Head>(train_images, 5'000, validation_seed);
    std::vector<int> test_numbers;
    const data::Dataset test = sum_set<Head>(test_images, 10'000, test_seed, &test_numbers);
    Net net{Seed{7}, cpu_backend(plan.bf16)};
    summary(net, std::cout);
    std::printf("%zu training pairs an epoch, made on the fly; %zu validation and %zu test pairs\n",
                plan.pairs_per_epoch, validation.size(), test.size());

    // Pair i of epoch e: images 2i and 2i + 1 of that epoch, and their sum.
    data::GeneratedStream stream(plan.pairs_per_epoch, 2 * NumberImages::size, Head::target_width,
                                 [&](std::uint64_t epoch, std::size_t index, float* images, float* targets) {
                                     const int a = train_images.draw(train_seed, epoch, 2 * index, images).number;
                                     const int b = train_images
                                                       .draw(train_seed, epoch, 2 * index + 1,
                                                             images + NumberImages::size)
                                                       .number;
                                     Head::target(a + b, plan.spread(epoch), targets);
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
    const double exact = exact_sums<Head>(net, test, test_numbers);
    if constexpr (Head::reads_digits)
        std::printf("the shared reader alone reads %.2f%% of the %zu test numbers right (never told one)\n",
                    100.0 * reading_accuracy(reader, test, test_numbers), test_numbers.size());
    std::printf("training: %.0f s for %zu epochs\n", seconds, history.epochs.size());
    std::printf("exact-match accuracy: %.2f%%\n", 100.0 * exact);
    return 0;
}

template <class Head>
int run(const data::TrainTest& mnist, const Plan& plan, bool small) {
    return small ? run<Head, 6, 16, 32, 32>(mnist, plan) : run<Head, 32, 64, 128, 128>(mnist, plan);
}

} // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    Plan plan;
    bool small = false;
    std::string head = "sum_of_numbers";
    ExampleArgs where;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--small") {
            small = true;
        } else if (args[i] == "--bf16") {
            plan.bf16 = true;
        } else if (args[i] == "--spread" && i + 1 < args.size()) {
            plan.first_spread = std::stof(args[++i]);
            if (!(plan.first_spread >= 0.0f)) throw std::invalid_argument("--spread: a standard deviation, 0 or more");
        } else if (args[i] == "--head" && i + 1 < args.size()) {
            head = args[++i];
            if (head != "learned" && head != "sum_of_numbers")
                throw std::invalid_argument("--head " + head + ": not learned or sum_of_numbers");
        } else if ((args[i] == "--epochs" || args[i] == "--pairs-per-epoch") && i + 1 < args.size()) {
            const std::size_t value = std::stoul(args[i + 1]);
            (args[i] == "--epochs" ? plan.epochs : plan.pairs_per_epoch) = value;
            ++i;
        } else if (args[i].starts_with("--")) {
            throw std::invalid_argument(
                args[i] + ": not --small, --bf16, --head NAME, --spread S, --epochs N or --pairs-per-epoch N");
        } else {
            where.positional.push_back(args[i]);
        }
    }
    const data::TrainTest mnist = data::load_mnist(example_data_dir(where, "mnist"));
    print_blas();
    return head == "learned" ? run<LearnedHead>(mnist, plan, small) : run<SumOfNumbersHead>(mnist, plan, small);
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
