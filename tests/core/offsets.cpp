// Where each layer's numbers sit in a network's flat buffers: every layer
// owns its arrays in list order, a composite's sublayers before its own,
// whether the layers run fused or not. layer_parameters<I>() and
// variables() expose the parameter offsets, state() the running statistics.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace core_offsets_test {

using namespace ctnn;

// A block that projects (Conv2D<4, 3, 2> halves the image, so the shortcut
// is a 1x1 convolution with its own kernel and bias, after the body's arrays).
using Net = Sequential<Input<2, 4, 4>, Conv2D<2, 3, 1, same>, BatchNorm,
                       Residual<Conv2D<4, 3, 2, same>, BatchNorm>, Flatten, Dense<3>>;

// The offsets are known at compile time.
static_assert(detail::parameter_offset<1>(Net::layers{}) == 0);
static_assert(detail::parameter_offset<2>(Net::layers{}) == 2 * 2 * 9 + 2);
static_assert(detail::parameter_offset<3>(Net::layers{}) == 38 + 2 * 2);
static_assert(detail::parameter_offset<5>(Net::layers{}) ==
              42 + (4 * 2 * 9 + 4) + 2 * 4 + (4 * 2 + 4));
static_assert(Net::param_count == 138 + 16 * 3 + 3);
static_assert(Net::state_count == 2 * 2 + 2 * 4);

struct Expected {
    std::string path;
    std::size_t offset, size;
};

TEST_CASE("variables: one per declared parameter array, with its path, in buffer order") {
    const Net net;
    const std::vector<Expected> expected{
        {"layer_01_Conv2D/kernel", 0, 36},
        {"layer_01_Conv2D/bias", 36, 2},
        {"layer_02_BatchNormalization/gamma", 38, 2},
        {"layer_02_BatchNormalization/beta", 40, 2},
        {"layer_03_Residual/layer_1_Conv2D/kernel", 42, 72},
        {"layer_03_Residual/layer_1_Conv2D/bias", 114, 4},
        {"layer_03_Residual/layer_2_BatchNormalization/gamma", 118, 4},
        {"layer_03_Residual/layer_2_BatchNormalization/beta", 122, 4},
        {"layer_03_Residual/shortcut_kernel", 126, 8},
        {"layer_03_Residual/shortcut_bias", 134, 4},
        {"layer_05_Dense/kernel", 138, 48},
        {"layer_05_Dense/bias", 186, 3},
    };
    const auto variables = net.variables();
    REQUIRE(variables.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(variables[i].path == expected[i].path);
        CHECK(variables[i].offset == expected[i].offset);
        CHECK(variables[i].size == expected[i].size);
        // The name is the path's last part.
        CHECK(expected[i].path.ends_with(std::string("/").append(variables[i].name)));
    }
    // Together they tile the buffer.
    CHECK(variables.back().offset + variables.back().size == Net::param_count);
    // An optimizer gets the same list.
    Net copy = net;
    CHECK(copy.trainable().variables.size() == expected.size());
    CHECK(copy.trainable().values.size() == Net::param_count);
}

TEST_CASE("variables: layer numbers take as many digits as the largest needs") {
    using Deep = Sequential<Input<2>, Dense<2>, ReLU, Dense<2>, ReLU, Dense<2>, ReLU, Dense<2>,
                            ReLU, Dense<2>, ReLU, Dense<2>>;
    const Deep net;
    CHECK(net.variables().front().path == "layer_01_Dense/kernel");
    CHECK(net.variables().back().path == "layer_11_Dense/bias");
}

TEST_CASE("layer_parameters: each layer's slice of parameters(), in list order") {
    using Small = Sequential<Input<1, 4, 4>, Conv2D<2, 3>, ReLU, Flatten, Dense<3>, Softmax>;
    Small net{Seed{3}};
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
    const Small& view = net;
    CHECK(view.layer_parameters<4>().data() == dense.data());
}

TEST_CASE("layer_parameters: a composite layer's slice holds its sublayers' and its own arrays") {
    Net net;
    const auto block = net.layer_parameters<3>();
    CHECK(block.data() == net.parameters().data() + 42);
    CHECK(block.size() == 96);
    CHECK(net.layer_parameters<4>().empty());
    CHECK(net.layer_parameters<5>().data() == block.data() + block.size());
}

TEST_CASE_TEMPLATE("state: each BatchNorm's moving mean, then its moving variance, in layer order",
                   Backend, CTNN_TEST_BACKENDS) {
    SUBCASE("as initialised, a Residual's body included") {
        const typename Net::template on<Backend> net;
        const std::vector<float> expected{0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1};
        const auto state = net.state();
        CHECK(std::vector<float>(state.begin(), state.end()) == expected);
    }
    SUBCASE("after a training step: the first BatchNorm's slots hold its batch's statistics") {
        // Two features, so the layout tells mean from variance; the second
        // BatchNorm runs fused after the Dense layer.
        using Small =
            typename Sequential<Input<2>, BatchNorm, Dense<3>, BatchNorm>::template on<Backend>;
        Small net{Seed{1}};
        const std::vector<float> x{1, 2, 3, 6};
        net.forward_keeping_outputs(x, 2, Context{.mode = Mode::training});
        const auto state = std::as_const(net).state();
        REQUIRE(state.size() == 2 * 2 + 2 * 3);
        // Batch means (2, 4) and unbiased variances (2, 8), weighted 1 - 0.99
        // against the initial 0 and 1.
        CHECK(state[0] == doctest::Approx(0.02));
        CHECK(state[1] == doctest::Approx(0.04));
        CHECK(state[2] == doctest::Approx(0.99 + 0.02));
        CHECK(state[3] == doctest::Approx(0.99 + 0.08));
        // The second BatchNorm's follow the Dense layer's outputs (for two
        // samples the unbiased variance is (a - b)^2 / 2).
        const auto dense = net.template layer_output<2>();
        for (std::size_t c = 0; c < 3; ++c) {
            CAPTURE(c);
            const double a = dense(0, c), b = dense(1, c);
            CHECK(state[4 + c] == doctest::Approx(0.01 * (a + b) / 2).epsilon(1e-5));
            const double variance = (a - b) * (a - b) / 2;
            CHECK(state[7 + c] == doctest::Approx(0.99 + 0.01 * variance).epsilon(1e-5));
        }
    }
}

} // namespace core_offsets_test
