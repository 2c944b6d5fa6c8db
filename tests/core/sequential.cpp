// Network<Backend, Fusion, Input, Layers...> as a value: construction from
// layer settings, a seed and a backend object; inputs checked; copies.
#include <doctest/doctest.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace core_sequential_test {

using Net = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<4>, ctnn::ReLU, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;

static_assert(std::is_same_v<Net::backend_type, ctnn::backend::Cpu>);
static_assert(Net::fused && !Net::unfused::fused);
using OnPortable = Net::on<ctnn::testing::Portable>;
static_assert(std::is_same_v<OnPortable::backend_type, ctnn::testing::Portable>);
static_assert(std::is_same_v<OnPortable::unfused, Net::unfused::on<ctnn::testing::Portable>>);
static_assert(std::is_same_v<Net::output_layer, ctnn::Softmax>);

// The portable backend counting its GEMMs into a counter the test owns: a
// network given one must run on that very object.
class Counting : public ctnn::testing::Portable {
public:
    Counting() = default;
    explicit Counting(std::size_t* gemms) : gemms_(gemms) {}

    void gemm(ctnn::Trans ta, ctnn::Trans tb, std::size_t m, std::size_t n, std::size_t k,
              float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
              float beta, float* c, std::size_t ldc) const {
        if (gemms_) ++*gemms_;
        Portable::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

private:
    std::size_t* gemms_ = nullptr;
};
static_assert(ctnn::Backend<Counting>);

TEST_CASE("Sequential: constructor arguments configure layers of their type, in order") {
    Net net{ctnn::Dropout{0.25f}, ctnn::Dense<4>{.l2 = 0.5f}, ctnn::Dropout{0.75f}};
    CHECK(net.layer<3>().rate == 0.25f);
    CHECK(net.layer<6>().rate == 0.75f);
    CHECK(net.layer<4>().l2 == 0.5f);
    CHECK(net.layer<1>().l2 == 0.0f);

    Net defaults;
    CHECK(defaults.layer<3>().rate == 0.5f);
}

TEST_CASE("Sequential: constructor arguments reach layers inside others, counted where they are declared") {
    using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<4>, ctnn::Shape<4>>,
                                 ctnn::Shared<ctnn::Dense<3>, ctnn::Dropout>, ctnn::Concatenate,
                                 ctnn::Residual<ctnn::Dense<6>, ctnn::Dropout>, ctnn::Dropout, ctnn::Dense<2>>;
    const Net net{ctnn::Dropout{0.1f}, ctnn::Seed{3}, ctnn::Dropout{0.2f}, ctnn::Dropout{0.3f}};
    CHECK(ctnn::detail::config_at<1>(net.layer<1>().body).rate == 0.1f);
    CHECK(ctnn::detail::config_at<1>(net.layer<3>().body).rate == 0.2f);
    CHECK(net.layer<4>().rate == 0.3f);
    // Fewer arguments than layers: the later ones keep their defaults.
    const Net partly{ctnn::Dropout{0.1f}};
    CHECK(ctnn::detail::config_at<1>(partly.layer<3>().body).rate == 0.5f);
    CHECK(partly.layer<4>().rate == 0.5f);
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

TEST_CASE_TEMPLATE("Sequential: a wrong input size is an error that names the expected shape",
                   Backend, CTNN_TEST_BACKENDS) {
    typename Net::template on<Backend> net;
    std::vector<float> x(13);
    CHECK_THROWS_WITH_AS(net.forward(x, 2), doctest::Contains("Shape<6>"), std::invalid_argument);
    CHECK_THROWS_AS(net.forward(x, 0), std::invalid_argument);
}

TEST_CASE_TEMPLATE("Sequential: outputs are probabilities, one row per sample", Backend,
                   CTNN_TEST_BACKENDS) {
    typename Net::template on<Backend> net{ctnn::Seed{3}};
    std::vector<float> x(6 * 4, 0.5f);
    auto y = net.forward(x, 4);
    REQUIRE(y.size() == 12);
    for (int r = 0; r < 4; ++r)
        CHECK(y[r * 3] + y[r * 3 + 1] + y[r * 3 + 2] == doctest::Approx(1.0));
}

TEST_CASE_TEMPLATE("Sequential: a copy is an independent network", Backend, CTNN_TEST_BACKENDS) {
    using OnBackend = typename Net::template on<Backend>;
    OnBackend net{ctnn::Seed{4}};
    OnBackend copy = net;
    copy.parameters()[0] += 1.0f;
    CHECK(copy.parameters()[0] != net.parameters()[0]);
    std::vector<float> x(6, 0.1f);
    auto y = net.forward(x, 1);
    std::vector<float> first(y.begin(), y.end());
    copy.forward(x, 1);
    auto again = net.forward(x, 1);
    CHECK((first == std::vector<float>(again.begin(), again.end())));
}

TEST_CASE_TEMPLATE("Sequential: workspaces are sized once; smaller batches reuse them", Backend,
                   CTNN_TEST_BACKENDS) {
    typename Net::template on<Backend> net;
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

TEST_CASE("Network: a backend argument is the object the network runs on") {
    using Mlp = ctnn::Network<Counting, ctnn::Fusion::fused, ctnn::Input<6>, ctnn::Dense<4>,
                              ctnn::ReLU, ctnn::Dense<3>>;
    std::size_t gemms = 0;
    Mlp net{ctnn::Dense<4>{.l2 = 0.5f}, Counting{&gemms}, ctnn::Seed{2}};
    CHECK(net.layer<1>().l2 == 0.5f);  // the other arguments still configure
    const std::vector<float> x(6 * 2, 0.5f);
    net.forward(x, 2);
    CHECK(gemms == 2);  // one per Dense layer
    // A copy runs on a copy of the same backend object.
    Mlp copy = net;
    copy.forward(x, 2);
    CHECK(gemms == 4);
    // Without one, the network default-constructs its backend.
    Mlp own{ctnn::Seed{2}};
    own.forward(x, 2);
    CHECK(gemms == 4);
    // Unfused, on the same object: the same GEMMs and the same outputs.
    Mlp::unfused plain{Counting{&gemms}, ctnn::Seed{2}, ctnn::Dense<4>{.l2 = 0.5f}};
    const auto y = plain.forward(x, 2);
    CHECK(gemms == 6);
    const auto expected = own.forward(x, 2);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]));
}

} // namespace core_sequential_test
