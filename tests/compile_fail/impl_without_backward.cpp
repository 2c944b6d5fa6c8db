// A user-defined layer whose impl runs forward only: training needs backward.
// expect: ctnn: a layer's impl needs `float* backward(const ctnn::LayerCall<Backend>&, const float* x, const float* y, float* dy, float* dx)`
// expect-context: BoundLayer<3, ForwardOnly
#include <ctnn/ctnn.hpp>

template <class Backend>
struct ForwardOnlyImpl {
    explicit ForwardOnlyImpl(const auto&) {}
    const float* forward(const ctnn::LayerCall<Backend>&, const float* x, float*) { return x; }
};

struct ForwardOnly {
    static constexpr std::string_view type_name = "ForwardOnly";
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
    template <class InputShape, class Backend>
    using impl = ForwardOnlyImpl<Backend>;
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<4>, ctnn::ReLU, ForwardOnly, ctnn::Dense<2>>;
Net net;
