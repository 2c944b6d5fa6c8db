// The seed models every CPU benchmark of ctnn's runs (ctnn_bench.cpp,
// scaling_bench.cpp), declared once.
#pragma once

#include <ctnn/ctnn.hpp>

namespace bench {

// Seed 001's MLP: 784-250-10, tanh, dropout, softmax.
using Mlp = ctnn::Sequential<ctnn::Input<784>, ctnn::Dense<250>, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<10>, ctnn::Softmax>;
// Seed 003's CNN and seed 004's CIFAR-10 CNN.
using SeedCnn = ctnn::Sequential<ctnn::Input<1, 28, 28>, ctnn::GaussianNoise, ctnn::Conv2D<45, 5>,
                                 ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Conv2D<60, 5>, ctnn::ReLU,
                                 ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<10>, ctnn::Softmax>;
using CifarCnn = ctnn::Sequential<ctnn::Input<3, 32, 32>, ctnn::Conv2D<32, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<64, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Conv2D<128, 5, 1, 2>, ctnn::ReLU,
                                  ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<64>, ctnn::ReLU,
                                  ctnn::Dense<10>, ctnn::Softmax>;
// examples/fashion_cnn.cpp's better model: each Conv2D, BatchNorm, ReLU,
// MaxPool2D one group (split by the batch statistics in training).
using FashionCnn = ctnn::Sequential<
    ctnn::Input<1, 28, 28>, ctnn::Conv2D<32, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::MaxPool2D<2>, ctnn::Conv2D<64, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dropout, ctnn::Dense<128>, ctnn::ReLU, ctnn::Dropout,
    ctnn::Dense<10>, ctnn::Softmax>;
// examples/lstm_addition.cpp's model: encoder LSTM 128 over 7 one-hot
// characters, RepeatVector 3, decoder LSTM 128, Dense 12 + softmax per step;
// Adam, cross-entropy per step.
using Adder = ctnn::Sequential<ctnn::Input<7, 12>, ctnn::LSTM<128>, ctnn::RepeatVector<3>,
                               ctnn::LSTM<128, true>, ctnn::TimeDistributed<ctnn::Dense<12>>,
                               ctnn::Softmax>;

} // namespace bench
