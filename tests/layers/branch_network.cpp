// branch_network<I>(net): a Shared's or a Branch's layers as a network of
// their own, with the branch's configuration, parameters and state.
#include <doctest/doctest.h>

#include <cstddef>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace layers_branch_network_test {

using ctnn::Shape;

using Reader = ctnn::Branch<ctnn::Conv2D<3, 3>, ctnn::BatchNorm, ctnn::LeakyReLU, ctnn::MaxPool2D<2>, ctnn::Flatten,
                            ctnn::Dense<4>>;
using Siamese = ctnn::Sequential<ctnn::Inputs<Shape<1, 8, 8>, Shape<1, 8, 8>>, ctnn::Shared<Reader>, ctnn::Concatenate>;
using Towers = ctnn::Sequential<ctnn::Input<64>, ctnn::Dense<5>, ctnn::Branch<ctnn::Dense<6>, ctnn::Tanh>>;

// A Shared<Reader> gives the reader's own layers, one image in.
using ReaderNet = decltype(ctnn::branch_network<1>(std::declval<const Siamese&>()));
static_assert(std::is_same_v<ReaderNet::input_shape, Shape<1, 8, 8>>);
static_assert(ReaderNet::layer_count == 6 && ReaderNet::param_count == Siamese::param_count);
static_assert(std::is_same_v<ReaderNet::output_shape, Shape<4>>);
// A Branch in the middle: its input is the layer before's output.
using TailNet = decltype(ctnn::branch_network<2>(std::declval<const Towers&>()));
static_assert(std::is_same_v<TailNet::input_shape, Shape<5>> && TailNet::layer_count == 2);

TEST_CASE_TEMPLATE("branch_network: the shared reader alone reads each input as the siamese network does", Backend,
                   CTNN_TEST_BACKENDS) {
    using Net = typename Siamese::template on<Backend>;
    Net net{ctnn::Seed{2}, ctnn::LeakyReLU{0.25f}};
    // Some training moves the BatchNorm's running statistics off their start.
    ctnn::Rng rng(3);
    std::vector<float> pairs(16 * Net::input_shape::size);
    for (float& v : pairs) v = rng.normal() + 0.5f;
    const ctnn::Context training{ctnn::Mode::training};
    net.forward(pairs, 16, training);

    const auto reader = ctnn::branch_network<1>(net);
    CHECK(reader.template layer<3>().alpha == 0.25f);  // the configured LeakyReLU
    CHECK(reader.host_parameters() == net.host_parameters());
    CHECK(reader.host_state() == net.host_state());
    CHECK(net.host_state() != std::vector<float>(Net::state_count, 0.0f));

    const auto both = net.forward(pairs, 16);
    const std::vector<float> joined(both.begin(), both.end());
    auto alone = ctnn::branch_network<1>(net);
    for (std::size_t sample = 0; sample < 16; ++sample)
        for (std::size_t use = 0; use < 2; ++use) {
            const std::span<const float> image(pairs.data() + (2 * sample + use) * 64, 64);
            const auto read = alone.forward(image, 1);
            for (std::size_t j = 0; j < 4; ++j)
                CHECK(read[j] == doctest::Approx(joined[sample * 8 + use * 4 + j]).epsilon(1e-5));
        }
}

TEST_CASE("branch_network: a copy; training it leaves the network as it was") {
    Towers net{ctnn::Seed{1}};
    auto tail = ctnn::branch_network<2>(net);
    const std::vector<float> before = net.host_parameters();
    std::vector<float> changed = tail.host_parameters();
    for (float& v : changed) v += 1.0f;
    tail.set_parameters(changed);
    CHECK(net.host_parameters() == before);
    // Dense<5>'s arrays come first; the Branch's follow.
    CHECK(std::equal(changed.begin(), changed.end(), before.begin() + 64 * 5 + 5,
                     [](float a, float b) { return a == b + 1.0f; }));
}

} // namespace layers_branch_network_test
