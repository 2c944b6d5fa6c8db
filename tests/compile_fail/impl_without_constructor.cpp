// A user-defined layer whose impl cannot be made from the descriptor: the
// network builds every impl from its layer's settings.
// expect: ctnn: a layer's impl needs a constructor from its descriptor, `explicit Impl(const Layer&)`
// expect-context: BoundLayer<3, Scale
#include <ctnn/ctnn.hpp>

template <class Backend>
struct ScaleImpl {
    const float* forward(const ctnn::LayerCall<Backend>&, const float* x, float*) { return x; }
    float* backward(const ctnn::LayerCall<Backend>&, const float*, const float*, float* dy, float*) {
        return dy;
    }
};

struct Scale {
    float factor = 1.0f;
    static constexpr std::string_view type_name = "Scale";
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
    template <class InputShape, class Backend>
    using impl = ScaleImpl<Backend>;
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<4>, ctnn::ReLU, Scale, ctnn::Dense<2>>;
Net net;
