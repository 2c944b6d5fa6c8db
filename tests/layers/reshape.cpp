#include <algorithm>
#include <doctest/doctest.h>

#include <boost/mp11/algorithm.hpp>
#include <cmath>
#include <type_traits>
#include <vector>

#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/reshape.hpp>
#include <ctnn/layers/softmax.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_reshape_test {

// Three answers of four classes each from one Dense layer.
using Net = ctnn::Sequential<ctnn::Input<5>, ctnn::Dense<12>, ctnn::Reshape<3, 4>, ctnn::Softmax>;
static_assert(std::is_same_v<boost::mp11::mp_at_c<Net::layers, 1>::output_shape, ctnn::Shape<3, 4>>);
static_assert(Net::param_count == 5 * 12 + 12);

TEST_CASE_TEMPLATE("Reshape: the same values seen in the new shape, as a view", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, ctnn::Shape<2, 3, 4>, ctnn::Fusion::fused, ctnn::Reshape<4, 6>> reshape(
        ctnn::Reshape<4, 6>{});
    std::vector<float> x(24);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    const auto y = reshape.forward(x, 1);
    CHECK(y.size() == 24);
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
    else CHECK(std::equal(x.begin(), x.end(), y.begin()));
}

TEST_CASE_TEMPLATE("Reshape: a softmax after it normalises each row of the new shape", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, ctnn::Shape<6>, ctnn::Fusion::fused, ctnn::Reshape<2, 3>, ctnn::Softmax>
        stack(ctnn::Reshape<2, 3>{}, ctnn::Softmax{});
    const std::vector<float> x = {0.0f, 1.0f, 2.0f, 5.0f, 5.0f, 5.0f};
    const auto y = stack.forward(x, 1);
    const float e1 = std::exp(1.0f), e2 = std::exp(2.0f), sum = 1.0f + e1 + e2;
    CHECK(y[0] == doctest::Approx(1.0f / sum));
    CHECK(y[1] == doctest::Approx(e1 / sum));
    CHECK(y[2] == doctest::Approx(e2 / sum));
    for (std::size_t i = 3; i < 6; ++i) CHECK(y[i] == doctest::Approx(1.0f / 3.0f));
}

TEST_CASE_TEMPLATE("Reshape: gradients", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<2, 3>>({}, ctnn::Reshape<3, 2>{});
    ctnn::testing::check_gradients<Backend, ctnn::Shape<6>>({}, ctnn::Reshape<2, 3>{}, ctnn::Softmax{});
}

} // namespace layers_reshape_test
