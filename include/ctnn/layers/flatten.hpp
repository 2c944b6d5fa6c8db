// Flatten: Shape<C, H, W> to Shape<C*H*W>. Activations are already contiguous
// in that order, so it is a view: no copy forward or backward.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"

namespace ctnn {

template <class Backend>
class FlattenImpl;

struct Flatten {
    static constexpr std::string_view type_name = "Flatten";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return Shape<InputShape::size>{};
    }
    template <class InputShape, class Backend>
    using impl = FlattenImpl<Backend>;
};

template <class Backend>
class FlattenImpl {
public:
    explicit FlattenImpl(const Flatten&) {}

    const float* forward(const LayerCall<Backend>&, const float* x, float*) { return x; }
    float* backward(const LayerCall<Backend>&, const float*, const float*, float* dy, float* dx) {
        return dx ? dy : nullptr;
    }
};

} // namespace ctnn
