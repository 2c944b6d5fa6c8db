// Captured graphs on a backend that CapturesGraphs: a graph replays the work
// it recorded, with the arguments it recorded, and InferenceGraph answers as
// forward() does, also after the weights change. Instantiated by
// tests/backend/graph_capture.cpp for ThrustHost in CI and by
// tests/cuda/graphs.cu for the CUDA backend.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/training/inference_graph.hpp>

#include "support/equivalence.hpp"
#include "support/training_cases.hpp"

namespace ctnn::testing::graphs {

template <class Device>
std::vector<float> on_host(const Device& device, const float* values, std::size_t n) {
    std::vector<float> host(n);
    device.to_host(values, host.data(), n);
    return host;
}

TEST_CASE_TEMPLATE_DEFINE("a captured graph runs nothing until launched, then replays its work "
                          "with the arguments it was recorded with", Device, replay) {
    const Device device;
    typename Device::template host_buffer<float> source, result;
    typename Device::template buffer<float> x, y, product;
    source.resize(4);
    result.resize(4);
    x.resize(4);
    y.resize(4);
    product.resize(4);
    device.fill(y.data(), 4, 1.0f);
    device.fill(product.data(), 4, 0.0f);
    for (std::size_t i = 0; i < 4; ++i) source.data()[i] = float(i + 1), result.data()[i] = -1.0f;

    const float scale = 2.0f;  // captured by value: changing it later changes nothing
    auto graph = device.capture([&] {
        device.to_device(source.data(), x.data(), 4);
        device.axpy(4, scale, x.data(), y.data());
        // product (2x2) = x (2x2) x (2x2)
        device.gemm(Trans::no, Trans::no, 2, 2, 2, 1.0f, x.data(), 2, x.data(), 2, 0.0f,
                    product.data(), 2);
        device.to_host_async(y.data(), result.data(), 4);
    });
    device.synchronize();
    CHECK(on_host(device, y.data(), 4) == std::vector<float>{1, 1, 1, 1});
    CHECK(result.data()[0] == -1.0f);

    graph.launch();
    device.synchronize();
    CHECK(std::vector<float>(result.data(), result.data() + 4) == std::vector<float>{3, 5, 7, 9});
    CHECK(on_host(device, product.data(), 4) == std::vector<float>{7, 10, 15, 22});

    // The host source is read when the graph runs; the scale stays 2.
    for (std::size_t i = 0; i < 4; ++i) source.data()[i] = 10.0f;
    graph.launch();
    device.synchronize();
    CHECK(std::vector<float>(result.data(), result.data() + 4) == std::vector<float>{23, 25, 27, 29});
}

using Mlp = Sequential<Input<12>, Dense<9>, Tanh, Dropout, Dense<4>, Softmax>;
using Cnn = Sequential<Input<2, 8, 8>, Conv2D<3, 3, 1, same>, BatchNorm, ReLU, MaxPool2D<2>,
                       Flatten, Dense<5>, Softmax>;
using Recurrent = Sequential<Input<5, 3>, LSTM<6>, Dense<2>, Softmax>;

// InferenceGraph's outputs against forward() on the same network, for
// several inputs through one graph.
template <class Net>
void check_inference_graph(Net& net, InferenceGraph<Net>& graph, std::uint64_t seed) {
    constexpr std::size_t in = Net::input_shape::size;
    const std::size_t batch = graph.batch();
    const auto& device = net.backend();
    typename Net::backend_type::template buffer<float> x;
    x.resize(batch * in);
    Rng rng(seed);
    for (int call = 0; call < 3; ++call) {
        const std::vector<float> inputs = random_values(batch * in, rng);
        const std::vector<float> replayed = [&] {
            auto y = graph.run(inputs);
            return std::vector<float>(y.begin(), y.end());
        }();
        device.to_device(inputs.data(), x.data(), inputs.size());
        auto y = net.forward({x.data(), x.size()}, batch);
        check_same_values(replayed, on_host(device, y.data(), y.size()), 1e-6, "graph output");
    }
}

template <class Net>
void check_inference_graph_follows_weights() {
    Net net{Seed{5}};
    for (std::size_t batch : {1, 3}) {
        CAPTURE(batch);
        InferenceGraph<Net> graph(net, batch);
        check_inference_graph(net, graph, 11 + batch);
        CHECK(graph.captures() == 1);
        // New weights (and running statistics): the next run captures again.
        Rng rng(batch);
        net.set_parameters(random_values(Net::param_count, rng));
        std::vector<float> state(Net::state_count);
        for (float& s : state) s = 0.5f + rng.uniform();
        net.set_state(state);
        check_inference_graph(net, graph, 21 + batch);
        CHECK(graph.captures() == 2);
    }
}

TEST_CASE_TEMPLATE_DEFINE("InferenceGraph answers as forward() does, and captures again when "
                          "the weights change", Device, inference) {
    check_inference_graph_follows_weights<typename Mlp::template on<Device>>();
    check_inference_graph_follows_weights<typename Cnn::template on<Device>>();
    check_inference_graph_follows_weights<typename Recurrent::template on<Device>>();
}

TEST_CASE_TEMPLATE_DEFINE("InferenceGraph rejects a batch of the wrong size", Device, wrong_batch) {
    typename Mlp::template on<Device> net{Seed{1}};
    InferenceGraph graph(net, 2);
    std::vector<float> one_sample(12);
    CHECK_THROWS_WITH_AS(graph.run(one_sample),
                         "ctnn: InferenceGraph::run got 12 values; its batch of 2 samples takes 24",
                         std::invalid_argument);
}

// fit with captured steps against fit with every step uncaptured, on the
// same backend: the same parameters, state, optimizer slots and figures. 50
// samples in batches of 16: three full batches and one of 2 per epoch, so
// each epoch captures two graphs and replays the full one twice.
template <class Net, class Optimizer>
void check_captured_fit(const Net& initial, const Optimizer& optimizer, std::size_t classes,
                        std::size_t steps = 1) {
    constexpr std::size_t epochs = 3;
    const data::Dataset train = training::labelled<typename Net::input_shape>(50, classes, steps, 4);
    FitOptions options{.epochs = epochs, .batch_size = 16, .seed = 9, .verbosity = Verbosity::silent};
    // A schedule: the graphs captured in one epoch must not keep the old rate.
    options.learning_rate_schedule = [](std::size_t epoch, float rate) { return epoch == 0 ? rate : rate * 0.5f; };
    Net captured = initial, uncaptured = initial;
    Optimizer captured_optimizer = optimizer, uncaptured_optimizer = optimizer;
    const History with_graphs = fit(captured, captured_optimizer, CategoricalCrossEntropy{}, train, options);
    options.capture_steps = false;
    const History without = fit(uncaptured, uncaptured_optimizer, CategoricalCrossEntropy{}, train, options);

    CHECK(with_graphs.replayed_steps == 2 * epochs);
    CHECK(without.replayed_steps == 0);
    for (std::size_t e = 0; e < epochs; ++e) {
        CAPTURE(e);
        CHECK(with_graphs.epochs[e].loss == doctest::Approx(without.epochs[e].loss).epsilon(1e-6));
        CHECK(with_graphs.epochs[e].accuracy == without.epochs[e].accuracy);
    }
    check_same_values(captured.host_parameters(), uncaptured.host_parameters(), 1e-6, "parameters");
    check_same_values(captured.host_state(), uncaptured.host_state(), 1e-6, "state");
    Optimizer::slots(captured_optimizer, [&](const auto& name, SlotArray& slot) {
        SlotArray* other = nullptr;
        Optimizer::slots(uncaptured_optimizer, [&](const auto& other_name, SlotArray& s) {
            if (std::string_view(other_name) == std::string_view(name)) other = &s;
        });
        REQUIRE(other != nullptr);
        CAPTURE(std::string(name));
        check_same_values(on_host(captured.backend(), slot.data(), slot.size()),
                          on_host(uncaptured.backend(), other->data(), other->size()), 1e-6, "slot");
    });
    if constexpr (requires { captured_optimizer.iterations(); })
        CHECK(captured_optimizer.iterations() == uncaptured_optimizer.iterations());
}

TEST_CASE_TEMPLATE_DEFINE("fit with captured steps trains as fit with uncaptured steps: dropout, "
                          "noise, BatchNorm, recurrent layers, every optimizer, a schedule and "
                          "the last short batch", Device, captured_fit) {
    using Regularised = Sequential<Input<12>, Dense<9>, ReLU, Dropout, Dense<4>, Softmax>;
    using Noisy = Sequential<Input<2, 8, 8>, GaussianNoise, Conv2D<3, 3, 1, same>, BatchNorm, ReLU,
                             MaxPool2D<2>, Flatten, Dense<5>, Softmax>;
    using Sequences = Sequential<Input<5, 3>, GRU<6, true>, TimeDistributed<Dense<3>>, Softmax>;
    SUBCASE("Adam, dropout, an L2 penalty") {
        check_captured_fit(typename Regularised::template on<Device>{Dense<9>{.l2 = 0.01f}, Seed{3}},
                           Adam{1e-2f}, 4);
    }
    SUBCASE("AdamW") { check_captured_fit(typename Mlp::template on<Device>{Seed{3}}, AdamW{1e-2f}, 4); }
    SUBCASE("RMSprop, noise, BatchNorm") {
        check_captured_fit(typename Noisy::template on<Device>{Seed{3}}, RMSprop{1e-2f}, 5);
    }
    SUBCASE("SGD with momentum, a GRU over sequences") {
        check_captured_fit(typename Sequences::template on<Device>{Seed{3}}, SGD{0.1f, 0.9f}, 3, 5);
    }
    SUBCASE("LSTM, Adam with clipvalue") {
        Adam clipped{1e-2f};
        clipped.clipping.clipvalue = 0.01f;
        check_captured_fit(typename Recurrent::template on<Device>{Seed{3}}, clipped, 2);
    }
}

// Every case above, for a test source to instantiate on its backends.
#define CTNN_GRAPH_CASES(X) X(replay) X(inference) X(wrong_batch) X(captured_fit)

} // namespace ctnn::testing::graphs
