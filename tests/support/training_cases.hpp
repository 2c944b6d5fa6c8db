// The whole training loop on a device backend against the CPU backend: the
// same network (moved there with to<Device>()), the same data, seed and
// optimizer must train to the same losses, accuracies and parameters, up to
// rounding; and a network moves between backends and back unchanged. The
// including test source instantiates the cases for its backend, as for
// support/equivalence_cases.hpp.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/equivalence.hpp"

namespace ctnn::testing::training {

// n samples of `Shape` in [-1, 1]; the label of each is the argmax of a fixed
// linear map of it, so that there is something to learn. One label per
// sample, or per time step for sequence outputs of `steps` steps.
template <class InputShape>
data::Dataset labelled(std::size_t n, std::size_t classes, std::size_t steps, std::uint64_t seed) {
    Rng rng(seed);
    data::Dataset set{xt::zeros<float>({n, InputShape::size}), xt::zeros<float>({n, steps})};
    for (std::size_t i = 0; i < n; ++i) {
        float* x = set.inputs.data() + i * InputShape::size;
        for (std::size_t j = 0; j < InputShape::size; ++j) x[j] = rng.uniform(-1.0f, 1.0f);
        for (std::size_t t = 0; t < steps; ++t) {
            std::size_t best = 0;
            float best_score = -1e30f;
            for (std::size_t c = 0; c < classes; ++c) {
                float score = 0.0f;
                for (std::size_t j = 0; j < InputShape::size; ++j)
                    score += x[j] * std::sin(float(1 + j * 7 + c * 13 + t * 29));
                if (score > best_score) best_score = score, best = c;
            }
            set.targets(i, t) = float(best);
        }
    }
    return set;
}

// Trains `cpu` and its copy on Device side by side and compares what fit,
// evaluate and predict report, and the parameters and state after training.
template <class Device, class Net, class Optimizer>
void check_training_matches(Net& cpu, const Optimizer& optimizer, const data::Dataset& train,
                            const data::Dataset& test, const FitOptions& options,
                            double tolerance = 1e-4) {
    auto device = cpu.template to<Device>();
    Optimizer cpu_optimizer = optimizer, device_optimizer = optimizer;
    const History on_cpu = fit(cpu, cpu_optimizer, CategoricalCrossEntropy{}, train, options);
    const History on_device = fit(device, device_optimizer, CategoricalCrossEntropy{}, train, options);
    REQUIRE(on_cpu.epochs.size() == on_device.epochs.size());
    for (std::size_t e = 0; e < on_cpu.epochs.size(); ++e) {
        CAPTURE(e);
        CHECK(on_device.epochs[e].loss == doctest::Approx(on_cpu.epochs[e].loss).epsilon(tolerance));
        CHECK(on_device.epochs[e].accuracy == doctest::Approx(on_cpu.epochs[e].accuracy).epsilon(tolerance));
        CHECK(on_device.epochs[e].val_loss == doctest::Approx(on_cpu.epochs[e].val_loss).epsilon(tolerance));
    }
    check_same_values(device.host_parameters(), cpu.host_parameters(), tolerance, "parameter");
    check_same_values(device.host_state(), cpu.host_state(), tolerance, "state");
    const Evaluation score_cpu = evaluate(cpu, test), score_device = evaluate(device, test);
    CHECK(score_device.loss == doctest::Approx(score_cpu.loss).epsilon(tolerance));
    CHECK(score_device.accuracy == doctest::Approx(score_cpu.accuracy).epsilon(tolerance));
    const auto p_cpu = predict(cpu, test.inputs), p_device = predict(device, test.inputs);
    check_same_values({p_device.data(), p_device.size()}, {p_cpu.data(), p_cpu.size()}, tolerance,
                      "prediction");
}

inline FitOptions quiet(std::size_t epochs, std::size_t batch, const data::Dataset& validation) {
    return {.epochs = epochs, .batch_size = batch, .validation = validation, .seed = 5,
            .verbosity = Verbosity::silent};
}

TEST_CASE_TEMPLATE_DEFINE(
    "fit on a device backend: an MLP with dropout, L2 and clipping trains as on the CPU", Device,
    fit_mlp) {
    using Mlp = Sequential<Input<12>, Dense<16>, Tanh, Dropout, Dense<4>, Softmax>;
    const auto train = labelled<Shape<12>>(100, 4, 1, 1), test = labelled<Shape<12>>(37, 4, 1, 2);
    Mlp cpu{Dropout{0.3f}, Dense<16>{.l2 = 1e-3f}, Seed{3}};
    Adam adam{1e-2f};
    adam.clipping.clipnorm = 0.5f;
    // 100 = 3 batches of 32 and one of 4.
    check_training_matches<Device>(cpu, adam, train, test, quiet(3, 32, test));
}

TEST_CASE_TEMPLATE_DEFINE(
    "fit on a device backend: a CNN with batch norm and pooling trains as on the CPU", Device,
    fit_cnn) {
    using Cnn = Sequential<Input<1, 8, 8>, GaussianNoise, Conv2D<4, 3, 1, same>, BatchNorm, ReLU,
                           MaxPool2D<2>, Conv2D<6, 3>, ReLU, GlobalAveragePool, Dense<3>, Softmax>;
    const auto train = labelled<Shape<1, 8, 8>>(45, 3, 1, 3), test = labelled<Shape<1, 8, 8>>(11, 3, 1, 4);
    Cnn cpu{GaussianNoise{0.1f}, Conv2D<4, 3, 1, same>{.l2 = 1e-3f}, Seed{4}};
    check_training_matches<Device>(cpu, SGD{0.05f, 0.9f, true}, train, test, quiet(2, 16, test));
}

TEST_CASE_TEMPLATE_DEFINE(
    "fit on a device backend: an LSTM encoder-decoder trains as on the CPU", Device,
    fit_lstm) {
    using Adder = Sequential<Input<5, 4>, LSTM<8>, RepeatVector<2>, GRU<8, true>,
                             TimeDistributed<Dense<3>>, Softmax>;
    const auto train = labelled<Shape<5, 4>>(40, 3, 2, 5), test = labelled<Shape<5, 4>>(9, 3, 2, 6);
    Adder cpu{Seed{6}};
    RMSprop rmsprop{1e-2f};
    check_training_matches<Device>(cpu, rmsprop, train, test, quiet(2, 8, test));
    auto device = cpu.template to<Device>();
    const SequenceAccuracy on_cpu = sequence_accuracy(cpu, test), on_device = sequence_accuracy(device, test);
    CHECK(on_device.per_sequence() == on_cpu.per_sequence());
    CHECK(on_device.per_step() == on_cpu.per_step());
}

TEST_CASE_TEMPLATE_DEFINE(
    "a network moves to a device backend and back unchanged", Device,
    moves_between_backends) {
    using Net = Sequential<Input<1, 6, 6>, Conv2D<3, 3>, BatchNorm, ReLU, Flatten, Dense<2>, Softmax>;
    Net cpu{Conv2D<3, 3>{.l2 = 0.01f}, Seed{8}};
    std::vector<float> state = cpu.host_state();
    for (float& v : state) v += 0.25f;
    cpu.set_state(state);
    auto device = cpu.template to<Device>();
    static_assert(std::is_same_v<decltype(device), typename Net::template on<Device>>);
    CHECK(device.host_parameters() == cpu.host_parameters());
    CHECK(device.host_state() == cpu.host_state());
    CHECK(device.template layer<1>().l2 == 0.01f);
    const Net back = device.template to<backend::Cpu>();
    CHECK(back.host_parameters() == cpu.host_parameters());
    CHECK(back.host_state() == state);
    // Host-side reads of device memory are copies, in the declared shapes.
    const auto kernel = device.template parameter<1, "kernel">();
    CHECK(kernel.shape(0) == 3);
    CHECK(kernel(2, 0, 1, 1) == cpu.template parameter<1, "kernel">()(2, 0, 1, 1));
    CHECK_THROWS_AS(device.set_parameters(std::vector<float>(3)), std::invalid_argument);
}

// Every case above: CTNN_TRAINING_CASES(CTNN_RUN) as for CTNN_EQUIVALENCE_CASES.
#define CTNN_TRAINING_CASES(X) X(fit_mlp) X(fit_cnn) X(fit_lstm) X(moves_between_backends)

} // namespace ctnn::testing::training
