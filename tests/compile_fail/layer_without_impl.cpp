// A user-defined layer that describes itself but has no code to run.
// expect: ctnn: a layer descriptor needs `template <class InputShape, class Backend> using impl = ...`
// expect-context: BoundLayer<3, Idle
#include <ctnn/ctnn.hpp>

struct Idle {
    static constexpr std::string_view type_name = "Idle";
    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return InputShape{};
    }
};

using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<4>, ctnn::ReLU, Idle, ctnn::Dense<2>>;
Net net;
