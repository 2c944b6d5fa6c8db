// Every layer and fused group on a device backend against the CPU backend
// (support/equivalence.hpp), and every fused group fused against unfused on
// that backend. Each case is a template the including test source
// instantiates for its backend (so that doctest files it under that source):
// tests/backend/thrust_host.cpp for ThrustHost in CI, tests/cuda/equivalence.cu
// for the CUDA backend.
#pragma once

#include <doctest/doctest.h>

#include <ctnn/ctnn.hpp>

#include "support/equivalence.hpp"

namespace ctnn::testing::equivalence {

using ctnn::Shape;

TEST_CASE_TEMPLATE_DEFINE(
    "Dense and every activation on a device backend equal the CPU's", Device,
    dense_and_activations) {
    check_matches_cpu<Device, Shape<5>>({}, ctnn::Dense<7>{});
    check_matches_cpu<Device, Shape<6>>({}, ctnn::ReLU{});
    check_matches_cpu<Device, Shape<6>>({}, ctnn::LeakyReLU{0.2f});
    check_matches_cpu<Device, Shape<6>>({}, ctnn::Tanh{});
    check_matches_cpu<Device, Shape<6>>({}, ctnn::Sigmoid{});
    check_matches_cpu<Device, Shape<2, 3, 2>>({}, ctnn::Flatten{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "Dropout and GaussianNoise draw the CPU's masks and noise on a device backend", Device,
    dropout_and_noise) {
    check_matches_cpu<Device, Shape<40>>({}, ctnn::Dropout{0.3f});
    check_matches_cpu<Device, Shape<2, 5, 4>>({}, ctnn::GaussianNoise{0.2f});
}

TEST_CASE_TEMPLATE_DEFINE(
    "Softmax per row and per time step on a device backend equals the CPU's", Device,
    softmax) {
    check_matches_cpu<Device, Shape<5>>({}, ctnn::Softmax{});
    check_matches_cpu<Device, Shape<4, 5>>({}, ctnn::Softmax{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "Conv2D on a device backend equals the CPU's: strides, paddings, rectangular kernels", Device,
    conv2d) {
    check_matches_cpu<Device, Shape<2, 7, 7>>({}, ctnn::Conv2D<3, 3>{});
    check_matches_cpu<Device, Shape<2, 8, 7>>({}, ctnn::Conv2D<4, 3, 2, ctnn::same>{});
    check_matches_cpu<Device, Shape<3, 6, 7>>({}, ctnn::Conv2D<4, ctnn::Size2{3, 2}, ctnn::Size2{2, 1}, 1>{});
    check_matches_cpu<Device, Shape<1, 4, 5>>({}, ctnn::Conv2D<2, ctnn::Size2{2, 3}, ctnn::Size2{1, 2}, 1>{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "pooling on a device backend equals the CPU's", Device,
    pooling) {
    check_matches_cpu<Device, Shape<3, 6, 6>>({}, ctnn::MaxPool2D<2>{});
    check_matches_cpu<Device, Shape<2, 7, 7>>({}, ctnn::MaxPool2D<3, 2>{});
    check_matches_cpu<Device, Shape<3, 6, 6>>({}, ctnn::AvgPool2D<2>{});
    check_matches_cpu<Device, Shape<2, 7, 7>>({}, ctnn::AvgPool2D<3, 2>{});
    check_matches_cpu<Device, Shape<3, 5, 4>>({}, ctnn::GlobalAveragePool{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "BatchNorm on a device backend equals the CPU's in training and inference", Device,
    batch_norm) {
    check_matches_cpu<Device, Shape<6>>({}, ctnn::BatchNorm{});
    check_matches_cpu<Device, Shape<3, 4, 4>>({}, ctnn::BatchNorm{.momentum = 0.9f});
}

TEST_CASE_TEMPLATE_DEFINE(
    "Residual blocks on a device backend equal the CPU's, both shortcuts", Device,
    residual) {
    using Identity = ctnn::Residual<ctnn::Dense<6>, ctnn::Tanh, ctnn::Dense<6>>;
    using Projection = ctnn::Residual<ctnn::Conv2D<4, 3, 2, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
                                      ctnn::Conv2D<4, 3, 1, ctnn::same>>;
    check_matches_cpu<Device, Shape<6>>({}, Identity{});
    check_matches_cpu<Device, Shape<2, 6, 6>>({}, Projection{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "branches and merges on a device backend equal the CPU's", Device,
    branches) {
    using Pair = ctnn::Shapes<Shape<1, 6, 6>, Shape<1, 6, 6>>;
    check_matches_cpu<Device, Pair>({}, ctnn::Shared<ctnn::Conv2D<2, 3>, ctnn::BatchNorm, ctnn::ReLU, ctnn::Flatten>{},
                                    ctnn::Concatenate{}, ctnn::Dense<3>{});
    check_matches_cpu<Device, ctnn::Shapes<Shape<1, 6, 6>, Shape<5>>>(
        {}, ctnn::Parallel<ctnn::Branch<ctnn::Conv2D<2, 3>, ctnn::Flatten, ctnn::Dense<4>>, ctnn::Dense<4>>{},
        ctnn::Add{}, ctnn::Tanh{});
    check_matches_cpu<Device, ctnn::Shapes<Shape<5>, Shape<5>>>(
        {}, ctnn::Shared<ctnn::Dense<20>, ctnn::Reshape<2, 10>>{}, ctnn::SumOfNumbers{}, ctnn::Softmax{});
}

TEST_CASE_TEMPLATE_DEFINE(
    "recurrent layers on a device backend equal the CPU's", Device,
    recurrent) {
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::LSTM<5>{});
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::LSTM<5, true>{});
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::GRU<5>{});
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::GRU<5, true>{});
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::SimpleRNN<5>{});
    check_matches_cpu<Device, Shape<4, 3>>({}, ctnn::SimpleRNN<5, true>{});
    check_matches_cpu<Device, Shape<4>>({}, ctnn::RepeatVector<3>{});
    check_matches_cpu<Device, Shape<4, 5>>({}, ctnn::TimeDistributed<ctnn::Dense<3>>{});
    // The addition model's shape: encoder, repeat, decoder, per-step classifier.
    check_matches_cpu<Device, Shape<7, 12>>({}, ctnn::LSTM<8>{}, ctnn::RepeatVector<3>{},
                                            ctnn::LSTM<8, true>{},
                                            ctnn::TimeDistributed<ctnn::Dense<12>>{}, ctnn::Softmax{});
    // The encoder's final states start the decoder.
    check_matches_cpu<Device, Shape<7, 12>>({}, ctnn::LSTM<8, false, true>{},
                                            ctnn::Parallel<ctnn::RepeatVector<3>, ctnn::Flatten, ctnn::Flatten>{},
                                            ctnn::LSTM<8, true>{}, ctnn::TimeDistributed<ctnn::Dense<12>>{});
    check_matches_cpu<Device, ctnn::Shapes<Shape<4, 3>, Shape<5>>>({}, ctnn::GRU<5, true, true>{});
}

// Each fused group, against the CPU, and fused against unfused on the device.
template <class Device, class InputShape, class... Layers>
void check_group(const Layers&... layers) {
    check_matches_cpu<Device, InputShape>({}, layers...);
    check_fusion_on<Device, InputShape>({.tolerance = 1e-4}, layers...);
}

TEST_CASE_TEMPLATE_DEFINE(
    "fused groups on a device backend equal the CPU's and their unfused layers", Device,
    fused_groups) {
    check_group<Device, Shape<2, 8, 8>>(ctnn::Conv2D<3, 3>{}, ctnn::BatchNorm{}, ctnn::ReLU{},
                                        ctnn::MaxPool2D<2>{});
    check_group<Device, Shape<2, 8, 8>>(ctnn::Conv2D<3, 3, 1, ctnn::same>{}, ctnn::ReLU{},
                                        ctnn::MaxPool2D<2>{});
    check_group<Device, Shape<2, 6, 6>>(ctnn::Conv2D<3, 3>{}, ctnn::Tanh{});
    check_group<Device, Shape<6>>(ctnn::Dense<5>{}, ctnn::BatchNorm{}, ctnn::ReLU{});
    check_group<Device, Shape<6>>(ctnn::Dense<5>{}, ctnn::Tanh{});
    check_group<Device, Shape<6>>(ctnn::Dense<5>{}, ctnn::Softmax{});
    check_group<Device, Shape<4, 5>>(ctnn::TimeDistributed<ctnn::Dense<3>>{}, ctnn::Tanh{});
}

// A loss on `Device` against the CPU: value and gradient of the same batch.
template <class Device, class Loss>
void check_loss(const Loss& loss, std::size_t rows, std::size_t width, bool index_targets) {
    Rng rng(9);
    std::vector<float> predictions(rows * width), targets(rows * (index_targets ? 1 : width));
    for (std::size_t r = 0; r < rows; ++r) {
        float sum = 0.0f;
        for (std::size_t c = 0; c < width; ++c) sum += predictions[r * width + c] = rng.uniform(0.05f, 1.0f);
        for (std::size_t c = 0; c < width; ++c) predictions[r * width + c] /= sum;
        if (index_targets)
            targets[r] = float(rng.below(width));
        else
            for (std::size_t c = 0; c < width; ++c) targets[r * width + c] = rng.uniform(0.0f, 1.0f) < 0.5f ? 0.0f : 1.0f;
    }
    const std::size_t target_width = index_targets ? 1 : width;
    const backend::Cpu cpu;
    const LossBatch on_cpu{predictions.data(), targets.data(), rows, width, target_width};
    std::vector<float> cpu_gradient(rows * width);
    loss.gradient(cpu, on_cpu, cpu_gradient.data());

    const Device device;
    typename Device::template buffer<float> p(predictions.size()), t(targets.size()), g(rows * width);
    device.to_device(predictions.data(), p.data(), predictions.size());
    device.to_device(targets.data(), t.data(), targets.size());
    const LossBatch on_device{p.data(), t.data(), rows, width, target_width};
    CHECK(loss.value(device, on_device) == doctest::Approx(loss.value(cpu, on_cpu)).epsilon(1e-6));
    loss.gradient(device, on_device, g.data());
    std::vector<float> device_gradient(g.size());
    device.to_host(g.data(), device_gradient.data(), g.size());
    check_same_values(device_gradient, cpu_gradient, 1e-6, "loss gradient");
}

TEST_CASE_TEMPLATE_DEFINE(
    "the three losses on a device backend equal the CPU's", Device,
    losses) {
    for (std::size_t rows : {1, 7, 600}) {
        CAPTURE(rows);
        check_loss<Device>(ctnn::CategoricalCrossEntropy{}, rows, 5, true);
        check_loss<Device>(ctnn::CategoricalCrossEntropy{}, rows, 5, false);
        check_loss<Device>(ctnn::MeanSquaredError{}, rows, 4, false);
        check_loss<Device>(ctnn::BinaryCrossEntropy{}, rows, 1, false);
    }
}

// Every case above, for a test source to instantiate on its backends:
//   #define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::ThrustHost);
//   CTNN_EQUIVALENCE_CASES(CTNN_RUN)
#define CTNN_EQUIVALENCE_CASES(X)                                                                     \
    X(dense_and_activations) X(dropout_and_noise) X(softmax) X(conv2d) X(pooling) \
    X(batch_norm) X(residual) X(branches) X(recurrent) X(fused_groups) X(losses)

} // namespace ctnn::testing::equivalence
