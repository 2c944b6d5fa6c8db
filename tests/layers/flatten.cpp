#include <algorithm>
#include <doctest/doctest.h>

#include <boost/mp11/algorithm.hpp>
#include <type_traits>
#include <vector>

#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/flatten.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_flatten_test {

using Net = ctnn::Sequential<ctnn::Input<2, 3, 4>, ctnn::Flatten, ctnn::Dense<5>>;
static_assert(std::is_same_v<boost::mp11::mp_at_c<Net::layers, 0>::output_shape, ctnn::Shape<24>>);
static_assert(Net::param_count == 24 * 5 + 5);

TEST_CASE_TEMPLATE("Flatten: Shape<C, H, W> becomes Shape<C*H*W>, as a view of the same values", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, ctnn::Shape<2, 3, 4>, ctnn::Fusion::fused, ctnn::Flatten> flatten(
        ctnn::Flatten{});
    std::vector<float> x(24);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
    const auto y = flatten.forward(x, 1);
    CHECK(y.size() == 24);
    // In place on host memory; elsewhere the same values.
    if constexpr (Backend::host_memory) CHECK(y.data() == x.data());
    else CHECK(std::equal(x.begin(), x.end(), y.begin()));
}

TEST_CASE_TEMPLATE("Flatten: gradients", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<2, 3>>({}, ctnn::Flatten{});
}

} // namespace layers_flatten_test
