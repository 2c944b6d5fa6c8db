// Graph capture on ThrustHost, which records every kernel, GEMM and copy as a
// CUDA graph would (support/graph_cases.hpp, run on the CUDA backend by
// tests/cuda/graphs.cu), and refuses what a CUDA stream capture refuses.
#if defined(CTNN_TEST_THRUST)
#include <ctnn/backend/thrust/host.hpp>

#include <stdexcept>
#include <string>

#include "support/graph_cases.hpp"

namespace ctnn::testing::graphs {

#define CTNN_RUN(id) TEST_CASE_TEMPLATE_INVOKE(id, ctnn::backend::ThrustHost);
CTNN_GRAPH_CASES(CTNN_RUN)

TEST_CASE("ThrustHost refuses inside a capture what a CUDA graph cannot hold, and captures "
          "again afterwards") {
    const backend::ThrustHost device;
    backend::ThrustHost::buffer<float> x(8);
    std::vector<float> host(8);
    auto refused = [&](auto&& work, const std::string& what) {
        CAPTURE(what);
        try {
            device.capture(work);
            FAIL("capture() accepted it");
        } catch (const std::logic_error& error) {
            CHECK(std::string(error.what()) ==
                  "ctnn: ThrustHost: " + what +
                      " inside capture(): a CUDA graph cannot hold it; do it before capturing "
                      "(reserve workspaces, read results after synchronize())");
        }
    };
    refused([&] { device.to_host(x.data(), host.data(), 8); }, "a copy to the host that waits for the device");
    refused([&] { backend::ThrustHost::buffer<float> grown(16); }, "allocating 64 bytes");
    refused([&] { device.synchronize(); }, "synchronize()");
    // A sum read back on the host waits for the device (its scratch memory
    // is there from the first sum).
    device.transform_sum(8, detail::IndexValue{});
    refused([&] { device.transform_sum(8, detail::IndexValue{}); }, "a copy to the host that waits for the device");
    CHECK_THROWS_WITH_AS(device.capture([&] { device.capture([] {}); }),
                         "ctnn: ThrustHost: capture() inside capture()", std::logic_error);

    auto graph = device.capture([&] { device.fill(x.data(), 8, 3.0f); });
    CHECK(graph.nodes() == 1);
    graph.launch();
    device.to_host(x.data(), host.data(), 8);
    CHECK(host == std::vector<float>(8, 3.0f));
}

TEST_CASE("InferenceGraph captures a forward pass that allocates nothing (a recorded graph refuses allocations)") {
    using Net = Cnn::on<backend::ThrustHost>;
    Net net{Seed{2}};
    InferenceGraph graph(net, 4);
    std::vector<float> inputs(4 * Net::input_shape::size, 0.25f);
    graph.run(inputs);
    CHECK(graph.captures() == 1);
    graph.run(inputs);
    CHECK(graph.captures() == 1);
}

} // namespace ctnn::testing::graphs
#endif
