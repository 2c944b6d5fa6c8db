// docs/architecture.md's worked example of a new layer, compiled: a
// per-feature scale declared, run and trained like any built-in layer.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/layer_stack.hpp"

namespace ctnn {

namespace detail {
struct ScaleForward {   // one functor: CPU threads and GPU lanes run the same code
    const float* x; const float* w; float* y; std::size_t features;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = x[i] * w[i % features]; }
};
struct ScaleBackward {  // dx = dy * w; the weight gradient is a reduction, below
    const float* dy; const float* w; float* dx; std::size_t features;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { dx[i] = dy[i] * w[i % features]; }
};
struct Product {        // x * dy, summed per feature by column_sums
    const float* x; const float* dy; float* out;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { out[i] = x[i] * dy[i]; }
};
} // namespace detail

template <class InputShape, class Backend> class ScaleImpl;

struct Scale {
    static constexpr std::string_view type_name = "Scale";
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(InputShape::rank == 1, "ctnn: Scale needs a rank-1 input");
        return InputShape{};
    }
    template <class InputShape>
    constexpr auto parameters() const {
        return std::array{ParameterArray{"scale", dims(InputShape::size), Layout::vector, Initializer::ones}};
    }
    template <class InputShape, class Backend>
    using impl = ScaleImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class ScaleImpl {
    static constexpr std::size_t n = InputShape::size;
public:
    explicit ScaleImpl(const Scale&) {}
    void reserve(const Backend&, std::size_t max_batch) { products_.resize(max_batch * n); }
    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        call.backend.for_each(call.batch * n, detail::ScaleForward{x, call.params, y, n});
        return y;
    }
    float* backward(const LayerCall<Backend>& call, const float* x, const float*, float* dy, float* dx) {
        call.backend.for_each(call.batch * n, detail::Product{x, dy, products_.data()});
        call.backend.column_sums(products_.data(), call.batch, n, call.grads);
        if (dx) call.backend.for_each(call.batch * n, detail::ScaleBackward{dy, call.params, dx, n});
        return dx;
    }
private:
    typename Backend::template buffer<float> products_;
};

} // namespace ctnn

namespace layers_user_layer_test {

using ctnn::Shape;

TEST_CASE_TEMPLATE("a user's layer: declared, checked, run and trained like a built-in one", Backend,
                   CTNN_TEST_BACKENDS) {
    ctnn::testing::check_gradients<Backend, Shape<4>>({}, ctnn::Scale{});

    using Net = typename ctnn::Sequential<ctnn::Input<4>, ctnn::Scale, ctnn::Dense<2>, ctnn::Softmax>::template on<Backend>;
    static_assert(Net::param_count == 4 + 4 * 2 + 2);
    Net net{ctnn::Seed{1}};
    CHECK(net.template parameter<1, "scale">()(3) == 1.0f);  // its declared initializer
    CHECK(net.variables()[0].path == "layer_01_Scale/scale");

    ctnn::testing::LayerStack<Backend, Shape<4>, ctnn::Fusion::fused, ctnn::Scale> scale(ctnn::Scale{});
    const std::vector<float> w{1, 2, -1, 0.5f}, x{1, 1, 2, 4, 0, -1, 3, 2};
    std::copy(w.begin(), w.end(), scale.params().begin());
    const auto y = scale.forward(x, 2);
    CHECK(std::vector<float>(y.begin(), y.end()) == std::vector<float>{1, 2, -2, 2, 0, -2, -3, 1});

    // Two samples of each class, told apart by the sign of feature 0.
    ctnn::data::Dataset data{xt::xtensor<float, 2>{{1, 0, 0, 0}, {2, 1, 0, 0}, {-1, 0, 1, 0}, {-2, 0, 0, 1}},
                             xt::xtensor<float, 2>{{0}, {0}, {1}, {1}}};
    ctnn::fit(net, ctnn::Adam{0.05f}, ctnn::CategoricalCrossEntropy{}, data,
              {.epochs = 40, .batch_size = 4, .verbosity = ctnn::Verbosity::silent});
    CHECK(ctnn::evaluate(net, data).accuracy == 1.0f);
}

} // namespace layers_user_layer_test
