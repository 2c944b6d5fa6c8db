// A user-defined layer that does not say what shape it returns.
// expect: ctnn: a layer descriptor needs `template <std::size_t LayerIndex, class InputShape> static consteval auto output_shape()`
// expect-context: BoundLayer<3, Shapeless
#include <ctnn/ctnn.hpp>

template <class Backend>
struct PassThrough {
    explicit PassThrough(const auto&) {}
    const float* forward(const ctnn::LayerCall<Backend>&, const float* x, float*) { return x; }
    float* backward(const ctnn::LayerCall<Backend>&, const float*, const float*, float* dy, float*) {
        return dy;
    }
};

struct Shapeless {
    static constexpr std::string_view type_name = "Shapeless";
    template <class InputShape, class Backend>
    using impl = PassThrough<Backend>;
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<4>, ctnn::ReLU, Shapeless, ctnn::Dense<2>>;
Net net;
