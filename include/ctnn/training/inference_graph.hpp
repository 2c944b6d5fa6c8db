// A network's inference at one batch size, captured once and then replayed
// with a single launch per call: a CUDA graph on backend::Cuda, a recorded
// graph on ThrustHost. What batch-1 latency costs once the per-layer
// launches are gone:
//
//   ctnn::InferenceGraph graph(gpu_net, 1);
//   std::span<const float> scores = graph.run(image);   // host in, host out
//
// The inputs and outputs pass through host staging buffers (pinned memory on
// CUDA) whose copies are part of the graph. The graph holds the network's
// buffers, and what is derived from its weights (a folded BatchNorm's
// scale): run() captures again when the weights have changed since (by
// training or set_parameters), so a graph never answers with stale weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/context.hpp"

namespace ctnn {

template <class Net>
    requires CapturesGraphs<typename Net::backend_type>
class InferenceGraph {
    using Backend = typename Net::backend_type;
    static constexpr std::size_t in = Net::input_shape::size, out = Net::output_shape::size;

public:
    InferenceGraph(Net& net, std::size_t batch) : net_(net), batch_(batch) {
        if (batch == 0) throw std::invalid_argument("ctnn: InferenceGraph: batch must be > 0");
        net_.reserve(batch);
        staged_inputs_.resize(batch * in);
        staged_outputs_.resize(batch * out);
        inputs_.resize(batch * in);
    }

    std::size_t batch() const { return batch_; }
    // How many times the forward pass was captured (once, plus once per
    // change of the weights that a run() found).
    std::size_t captures() const { return captures_; }

    // batch() rows of input values in host memory; the output rows, in host
    // memory owned by the graph and valid until the next run().
    std::span<const float> run(std::span<const float> inputs) {
        if (inputs.size() != batch_ * in)
            throw std::invalid_argument("ctnn: InferenceGraph::run got " + std::to_string(inputs.size()) +
                                        " values; its batch of " + std::to_string(batch_) +
                                        " samples takes " + std::to_string(batch_ * in));
        std::memcpy(staged_inputs_.data(), inputs.data(), inputs.size() * sizeof(float));
        if (!graph_ || captured_version_ != net_.version()) capture();
        graph_->launch();
        net_.backend().synchronize();
        return {staged_outputs_.data(), batch_ * out};
    }

private:
    // One forward pass runs uncaptured first, so that whatever it derives
    // lazily from the weights (a BatchNorm fold) is computed outside the
    // graph and the graph holds only the per-call work.
    void capture() {
        const Backend& backend = net_.backend();
        auto pass = [&] {
            backend.to_device(staged_inputs_.data(), inputs_.data(), batch_ * in);
            auto y = net_.forward({inputs_.data(), batch_ * in}, batch_, Context{});
            backend.to_host_async(y.data(), staged_outputs_.data(), y.size());
        };
        graph_.reset();
        pass();
        backend.synchronize();
        graph_.emplace(backend.capture(pass));
        captured_version_ = net_.version();
        ++captures_;
    }

    Net& net_;
    std::size_t batch_;
    typename Backend::template host_buffer<float> staged_inputs_, staged_outputs_;
    typename Backend::template buffer<float> inputs_;
    std::optional<typename Backend::graph> graph_;
    std::uint64_t captured_version_ = 0;
    std::size_t captures_ = 0;
};

} // namespace ctnn
