// Seed 004's three CIFAR-10 CNNs: the two architectures of its task 3a
// (batch normalisation after each pool; the second with 2x2 pools and
// dropout 0.4 before each Dense layer) and the final one of task 3e (64/128/256
// filters of 3x3, the first architecture's pools). Their summaries print the
// parameter counts; with CIFAR-10's binary files the final model trains
// (Adam, 7e-4, and the seed's weight decay of 2e-5 as an L2 term on the kernels) and ends
// with its test accuracy (the seed's: 81.4%).
// Usage: cifar_cnn [cifar-10-batches-bin directory]   (default data/cifar-10-batches-bin)
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/cifar10.hpp>

#include "example_support.hpp"

using namespace ctnn;

// PyTorch's Adam(weight_decay=2e-5) adds 2e-5 w to each gradient: an L2 term
// of 1e-5 w^2, on every kernel.
inline constexpr float l2 = 1e-5f;

using FirstCnn = Sequential<Input<3, 32, 32>, Conv2D<32, 5, 1, 2>, ReLU, MaxPool2D<4, 2>, BatchNorm,
                            Conv2D<64, 5, 1, 2>, ReLU, MaxPool2D<3, 2>, BatchNorm,
                            Conv2D<128, 5, 1, 2>, ReLU, MaxPool2D<2>, BatchNorm, Flatten, Dense<64>,
                            ReLU, Dense<10>, Softmax>;
using SecondCnn = Sequential<Input<3, 32, 32>, Conv2D<32, 5, 1, 2>, ReLU, MaxPool2D<2>, BatchNorm,
                             Conv2D<64, 5, 1, 2>, ReLU, MaxPool2D<2>, BatchNorm,
                             Conv2D<128, 5, 1, 2>, ReLU, MaxPool2D<2>, BatchNorm, Flatten, Dropout,
                             Dense<64>, ReLU, Dropout, Dense<10>, Softmax>;
using FinalCnn = Sequential<Input<3, 32, 32>, Conv2D<64, 3, 1, 1>, ReLU, MaxPool2D<4, 2>, BatchNorm,
                            Conv2D<128, 3, 1, 1>, ReLU, MaxPool2D<3, 2>, BatchNorm,
                            Conv2D<256, 3, 1, 1>, ReLU, MaxPool2D<2>, BatchNorm, Flatten, Dropout,
                            Dense<64>, ReLU, Dropout, Dense<10>, Softmax>;
// 32 -> pool 4/2: 15 -> pool 3/2: 7 -> pool 2: 3, so 256 x 3 x 3 values reach Dense 64: the
// convolutions, BatchNorm's scales and shifts, and the two Dense layers.
static_assert(FinalCnn::param_count == 1'792 + 73'856 + 295'168 + 2 * (64 + 128 + 256) + 147'520 + 650);

int main(int argc, char** argv) {
    const ExampleArgs args = parse_example_args(argc, argv);
    const std::filesystem::path directory = args.positional.empty()
                                                ? std::filesystem::path(CTNN_EXAMPLE_DATA_DIR) / "cifar-10-batches-bin"
                                                : std::filesystem::path(args.positional.front());
    FirstCnn first{Seed{42}};
    SecondCnn second{Dropout{0.4f}, Dropout{0.4f}, Seed{42}};
    FinalCnn final_cnn{Conv2D<64, 3, 1, 1>{.l2 = l2}, Conv2D<128, 3, 1, 1>{.l2 = l2},
                       Conv2D<256, 3, 1, 1>{.l2 = l2}, Dense<64>{.l2 = l2}, Dense<10>{.l2 = l2},
                       Dropout{0.4f}, Dropout{0.4f}, Seed{42}};
    std::cout << "seed 004, task 3a, first architecture\n";
    summary(first, std::cout);
    std::cout << "\nseed 004, task 3a, second architecture\n";
    summary(second, std::cout);
    std::cout << "\nseed 004, task 3e, final architecture\n";
    summary(final_cnn, std::cout);

    if (!std::filesystem::exists(directory / "data_batch_1.bin")) {
        std::printf("\nno CIFAR-10 in %s: %s; pass its directory to train.\n", directory.string().c_str(),
                    std::string(data::cifar10::where_to_get_it).c_str());
        return 0;
    }
    auto cifar = data::load_cifar10(directory, {.normalize = true});
    print_blas();
    auto history = fit(final_cnn, Adam{7e-4f}, CategoricalCrossEntropy{}, cifar.train,
                       {.epochs = 10, .batch_size = 64, .validation = cifar.test, .seed = 42,
                        .early_stopping = EarlyStopping{.patience = 3}});
    write_history(history, "cifar_cnn");
    report_test_accuracy(final_cnn, cifar.test);
    return 0;
}
