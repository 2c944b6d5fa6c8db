// Seed 003's deep network: 784-125-100-50-10 with ReLU, plain SGD at learning
// rate 0.1 and Keras's default batch of 32. Usage: mnist_deep_mlp [mnist-directory]
#include <cstdio>
#include <exception>
#include <iostream>

#include <ctnn/ctnn.hpp>

#include "example_support.hpp"

using DeepMlp = ctnn::Sequential<ctnn::Input<28, 28>, ctnn::Flatten, ctnn::Dense<125>, ctnn::ReLU,
                                 ctnn::Dense<100>, ctnn::ReLU, ctnn::Dense<50>, ctnn::ReLU,
                                 ctnn::Dense<10>, ctnn::Softmax>;
static_assert(DeepMlp::param_count == 116'285);

int main(int argc, char** argv) try {
    DeepMlp net{ctnn::Seed{42}};
    ctnn::summary(net, std::cout);

    auto data = ctnn::data::load_mnist(example_data_dir(argc, argv, "mnist"));
    auto history = ctnn::fit(net, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, data.train,
                             {.epochs = 30, .batch_size = 32, .validation = data.test, .seed = 42});
    write_history(history, "mnist_deep_mlp");

    report_test_accuracy(net, data.test);
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
