// A user-defined layer that forgets its name; every other member is there.
// expect: ctnn: a layer descriptor needs `static constexpr std::string_view type_name`
// expect-context: BoundLayer<3, Unnamed
#include <ctnn/ctnn.hpp>

template <class Backend>
struct PassThrough {
    explicit PassThrough(const auto&) {}
    const float* forward(const ctnn::LayerCall<Backend>&, const float* x, float*) { return x; }
    float* backward(const ctnn::LayerCall<Backend>&, const float*, const float*, float* dy, float*) {
        return dy;
    }
};

struct Unnamed {
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
    template <class InputShape, class Backend>
    using impl = PassThrough<Backend>;
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<4>, ctnn::ReLU, Unnamed, ctnn::Dense<2>>;
Net net;
