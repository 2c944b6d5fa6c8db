#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

// layer_parameters<I>() and layer_output<I>(): one layer's slice of the
// parameter buffer, and its output rows from the last forward() call.

TEST_CASE("layer_parameters: each layer's slice of parameters(), in list order") {
    using Net = ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::Conv2D<2, 3>, ctnn::ReLU,
                                 ctnn::Flatten, ctnn::Dense<3>, ctnn::Softmax>;
    Net net{ctnn::Seed{3}};
    const auto all = net.parameters();
    auto conv = net.layer_parameters<1>();
    auto dense = net.layer_parameters<4>();
    CHECK(conv.data() == all.data());
    CHECK(conv.size() == 2 * 1 * 3 * 3 + 2);
    CHECK(dense.data() == all.data() + conv.size());
    CHECK(dense.size() == 8 * 3 + 3);
    CHECK(net.layer_parameters<2>().empty());
    conv[0] = 42.0f;  // a view, not a copy
    CHECK(net.parameters()[0] == 42.0f);
    const Net& view = net;
    CHECK(view.layer_parameters<4>().data() == dense.data());
}

TEST_CASE("layer_output: a layer's rows from the last forward(), fused or not") {
    using Net = ctnn::Sequential<ctnn::Input<3>, ctnn::Dense<2>, ctnn::ReLU, ctnn::Dense<1>>;
    Net net{ctnn::Seed{5}};
    CHECK_THROWS_AS(net.layer_output<2>(), std::logic_error);
    auto w = net.layer_parameters<1>();  // kernel (3, 2) then bias (2)
    std::fill(w.begin(), w.end(), 0.0f);
    w[0] = 1.0f;   // unit 0 = x0
    w[1] = -1.0f;  // unit 1 = -x0
    const std::vector<float> x{2.0f, 0.0f, 0.0f, -3.0f, 0.0f, 0.0f};
    auto y = net.forward(x, 2);
    auto hidden = net.layer_output<2>();  // Dense<2> runs fused with this ReLU
    REQUIRE(hidden.size() == 4);
    CHECK(hidden[0] == 2.0f);
    CHECK(hidden[1] == 0.0f);
    CHECK(hidden[2] == 0.0f);
    CHECK(hidden[3] == 3.0f);
    auto last = net.layer_output<3>();
    CHECK(last.data() == y.data());
    CHECK(last.size() == 2);

    Net::unfused plain{ctnn::Seed{5}};
    std::copy(net.parameters().begin(), net.parameters().end(), plain.parameters().begin());
    plain.forward(x, 2);
    auto pre_activation = plain.layer_output<1>();
    CHECK(pre_activation[1] == -2.0f);
    CHECK(pre_activation[2] == -3.0f);
}
