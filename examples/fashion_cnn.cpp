// Seed 001's small CNN on Fashion-MNIST (9/9/16 filters, "same" padding,
// Dense 25 then 10: 7,465 parameters), then a better model with batch norm
// and dropout. The last line is the better model's test accuracy.
// Usage: fashion_cnn [--device cpu|thrust-host|cuda] [fashion-mnist-directory]
#include <cstdio>
#include <exception>
#include <iostream>

#include <ctnn/ctnn.hpp>

#include "example_support.hpp"

using SmallCnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::Conv2D<9, 5, 1, ctnn::same>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<9, 5, 1, ctnn::same>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<16, 3, 1, ctnn::same>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<25>, ctnn::ReLU,
                                  ctnn::Dense<10>, ctnn::Softmax>;
static_assert(SmallCnn::param_count == 7'465);

using BetterCnn = ctnn::Sequential<
    ctnn::Input<1, 28, 28>, ctnn::Conv2D<32, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::MaxPool2D<2>, ctnn::Conv2D<64, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dropout, ctnn::Dense<128>, ctnn::ReLU, ctnn::Dropout,
    ctnn::Dense<10>, ctnn::Softmax>;

template <class Net>
void train(Net& net, const ctnn::data::TrainTest& data, std::size_t epochs, const char* name) {
    ctnn::summary(net, std::cout);
    auto record = ctnn::fit(net, ctnn::Adam{1e-3f}, ctnn::CategoricalCrossEntropy{}, data.train,
                            {.epochs = epochs,
                             .batch_size = 128,
                             .validation = data.test,
                             .seed = 42,
                             .learning_rate_schedule = ctnn::cosine_decay(1e-3f, epochs)});
    write_history(record, name);
}

template <class Backend>
int run(const ExampleArgs& args) {
    auto data = ctnn::data::load_fashion_mnist(args.positional.empty()
                                                   ? ctnn::data::default_fashion_mnist_dir()
                                                   : std::filesystem::path(args.positional.front()));

    typename SmallCnn::on<Backend> small{ctnn::Seed{42}};
    print_backend(small);
    train(small, data, 10, "fashion_small_cnn");
    std::printf("seed 001's small CNN, test accuracy: %.2f%%\n\n",
                100.0 * ctnn::evaluate(small, data.test).accuracy);

    typename BetterCnn::on<Backend> better{ctnn::Dropout{0.25f}, ctnn::Dropout{0.4f}, ctnn::Seed{42}};
    train(better, data, 15, "fashion_cnn");
    report_test_accuracy(better, data.test);
    return 0;
}

CTNN_EXAMPLE_MAIN(run)
