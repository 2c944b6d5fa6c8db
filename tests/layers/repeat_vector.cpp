#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <ctnn/layers/repeat_vector.hpp>
#include <ctnn/sequential.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace layers_repeat_vector_test {

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::RepeatVector<3>>;
static_assert(std::is_same_v<Net::output_shape, ctnn::Shape<3, 4>>);
static_assert(Net::param_count == 0);

TEST_CASE_TEMPLATE("RepeatVector: copies each sample N times, and sums the copies' gradients", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::testing::LayerStack<Backend, ctnn::Shape<2>, ctnn::Fusion::fused, ctnn::RepeatVector<3>> repeat(
        ctnn::RepeatVector<3>{});
    const std::vector<float> x{1, 2, 3, 4};
    const auto y = repeat.forward(x, 2);
    CHECK((std::vector<float>(y.begin(), y.end()) == std::vector<float>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));

    const std::vector<float> dy{1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60};
    const auto dx = repeat.backward(dy, 2);
    CHECK((std::vector<float>(dx.begin(), dx.end()) == std::vector<float>{6, 60, 15, 150}));
}

TEST_CASE_TEMPLATE("RepeatVector: gradient check", Backend, CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, ctnn::Shape<4>>({}, ctnn::RepeatVector<3>{});
}

} // namespace layers_repeat_vector_test
