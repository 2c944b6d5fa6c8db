// Captured graphs on a backend that CapturesGraphs: a graph replays the work
// it recorded, with the arguments it recorded, and InferenceGraph answers as
// forward() does, also after the weights change. Instantiated by
// tests/backend/graph_capture.cpp for ThrustHost in CI and by
// tests/cuda/graphs.cu for the CUDA backend.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <span>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/training/inference_graph.hpp>

#include "support/equivalence.hpp"

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

// Every case above, for a test source to instantiate on its backends.
#define CTNN_GRAPH_CASES(X) X(replay) X(inference) X(wrong_batch)

} // namespace ctnn::testing::graphs
