// Seed 003, question 4B: shift every test image 3 pixels to the right and
// compare how the CNN and the deep MLP cope, as a table.
// Usage: shift_robustness [mnist-directory]
#include <cstdio>
#include <exception>
#include <iostream>

#include <ctnn/ctnn.hpp>

#include "example_support.hpp"

using Cnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::GaussianNoise, ctnn::Conv2D<45, 5>,
                             ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Conv2D<60, 5>, ctnn::ReLU,
                             ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<10>, ctnn::Softmax>;
using DeepMlp = ctnn::Sequential<ctnn::Input<28, 28>, ctnn::Flatten, ctnn::Dense<125>, ctnn::ReLU,
                                 ctnn::Dense<100>, ctnn::ReLU, ctnn::Dense<50>, ctnn::ReLU,
                                 ctnn::Dense<10>, ctnn::Softmax>;

// The same images moved `pixels` columns to the right, blank columns entering on the left.
ctnn::data::Dataset shifted_right(const ctnn::data::Dataset& data, std::size_t pixels) {
    ctnn::data::Dataset moved{xt::zeros<float>(data.inputs.shape()), data.targets};
    for (std::size_t i = 0; i < data.size(); ++i)
        for (std::size_t row = 0; row < 28; ++row)
            for (std::size_t col = pixels; col < 28; ++col)
                moved.inputs(i, row * 28 + col) = data.inputs(i, row * 28 + col - pixels);
    return moved;
}

int main(int argc, char** argv) try {
    auto data = ctnn::data::load_mnist(example_data_dir(argc, argv, "mnist"));
    auto moved = shifted_right(data.test, 3);

    Cnn cnn{ctnn::GaussianNoise{0.1f}, ctnn::Conv2D<45, 5>{.l2 = 0.001f}, ctnn::Seed{42}};
    ctnn::fit(cnn, ctnn::RMSprop{1e-3f}, ctnn::CategoricalCrossEntropy{}, data.train,
              {.epochs = 4, .batch_size = 128, .seed = 42});
    DeepMlp mlp{ctnn::Seed{42}};
    ctnn::fit(mlp, ctnn::SGD{0.1f}, ctnn::CategoricalCrossEntropy{}, data.train,
              {.epochs = 10, .batch_size = 32, .seed = 42});

    std::printf("\n%-28s %10s %14s\n", "model", "original", "shifted by 3");
    std::printf("%-28s %9.2f%% %13.2f%%\n", "CNN (seed 003, Q4)",
                100.0 * ctnn::evaluate(cnn, data.test).accuracy, 100.0 * ctnn::evaluate(cnn, moved).accuracy);
    std::printf("%-28s %9.2f%% %13.2f%%\n", "deep MLP (seed 003, Q2)",
                100.0 * ctnn::evaluate(mlp, data.test).accuracy, 100.0 * ctnn::evaluate(mlp, moved).accuracy);
    std::printf("test accuracy: %.2f%%\n", 100.0 * ctnn::evaluate(cnn, moved).accuracy);
} catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
}
