#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

using Net = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<4>, ctnn::ReLU, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;

TEST_CASE("Sequential: constructor arguments configure layers of their type, in order") {
    Net net{ctnn::Dropout{0.25f}, ctnn::Dense<4>{.l2 = 0.5f}, ctnn::Dropout{0.75f}};
    CHECK(net.layer<3>().rate == 0.25f);
    CHECK(net.layer<6>().rate == 0.75f);
    CHECK(net.layer<4>().l2 == 0.5f);
    CHECK(net.layer<1>().l2 == 0.0f);

    Net defaults;
    CHECK(defaults.layer<3>().rate == 0.5f);
}

TEST_CASE("Sequential: the seed fixes the initial weights") {
    Net a{ctnn::Seed{1}}, b{ctnn::Seed{1}}, c{ctnn::Seed{2}};
    std::vector<float> pa(a.parameters().begin(), a.parameters().end());
    std::vector<float> pb(b.parameters().begin(), b.parameters().end());
    std::vector<float> pc(c.parameters().begin(), c.parameters().end());
    CHECK(pa.size() == Net::param_count);
    CHECK((pa == pb));
    CHECK((pa != pc));
}

TEST_CASE("Sequential: a wrong input size is an error that names the expected shape") {
    Net net;
    std::vector<float> x(13);
    CHECK_THROWS_WITH_AS(net.forward(x, 2), doctest::Contains("Shape<6>"), std::invalid_argument);
    CHECK_THROWS_AS(net.forward(x, 0), std::invalid_argument);
}

TEST_CASE("Sequential: outputs are probabilities, one row per sample") {
    Net net{ctnn::Seed{3}};
    std::vector<float> x(6 * 4, 0.5f);
    auto y = net.forward(x, 4);
    REQUIRE(y.size() == 12);
    for (int r = 0; r < 4; ++r) CHECK(y[r * 3] + y[r * 3 + 1] + y[r * 3 + 2] == doctest::Approx(1.0));
}

TEST_CASE("Sequential: a copy is an independent network") {
    Net net{ctnn::Seed{4}};
    Net copy = net;
    copy.parameters()[0] += 1.0f;
    CHECK(copy.parameters()[0] != net.parameters()[0]);
    std::vector<float> x(6, 0.1f);
    auto y = net.forward(x, 1);
    std::vector<float> first(y.begin(), y.end());
    copy.forward(x, 1);
    auto again = net.forward(x, 1);
    CHECK((first == std::vector<float>(again.begin(), again.end())));
}

TEST_CASE("Sequential: workspaces are sized once; smaller batches reuse them") {
    Net net;
    net.reserve(8);
    std::vector<float> x(6 * 8, 0.2f);
    const float* at_eight = net.forward(x, 8).data();
    const float* at_three = net.forward(std::span<const float>(x).first(18), 3).data();
    CHECK(at_eight == at_three);
}

TEST_CASE("Sequential: an empty layer next to a configurable one leaves its defaults alone") {
    // std::tuple<ReLU, BatchNorm>{} zeroes the BatchNorm with GCC 12's libstdc++.
    using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<3>, ctnn::ReLU, ctnn::BatchNorm>;
    Net net;
    CHECK(net.layer<3>().epsilon == 1e-3f);
    CHECK(net.layer<3>().momentum == 0.99f);
}
