// One training step of a small CNN on `Backend`; prints the loss.
#pragma once

#include <cstdio>

#include <ctnn/ctnn.hpp>

using Cnn = ctnn::Sequential<ctnn::Input<1, 8, 8>, ctnn::Conv2D<4, 3>, ctnn::ReLU, ctnn::MaxPool2D<2>,
                             ctnn::Flatten, ctnn::Dense<3>, ctnn::Softmax>;

template <class Backend>
int train_one_step() {
    typename Cnn::on<Backend> net{ctnn::Seed{1}};
    ctnn::data::Dataset data{xt::ones<float>({4, 64}), xt::zeros<float>({4, 1})};
    auto history = ctnn::fit(net, ctnn::Adam{}, ctnn::CategoricalCrossEntropy{}, data,
                             {.epochs = 1, .batch_size = 4, .verbosity = ctnn::Verbosity::silent});
    std::printf("%s: loss %.4f\n", std::string(Backend::name).c_str(), history.epochs.back().loss);
    return 0;
}
