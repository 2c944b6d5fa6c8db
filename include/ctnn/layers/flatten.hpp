// Flatten: Shape<C, H, W> to Shape<C*H*W>. Activations are already contiguous
// in that order, so it is a view: no copy forward or backward.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

template <class InputShape, class Backend>
class FlattenImpl;

struct Flatten {
    static constexpr std::string_view type_name = "Flatten";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return Shape<InputShape::size>{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
    template <class InputShape, class Backend>
    using impl = FlattenImpl<InputShape, Backend>;
};

template <class InputShape, class Backend>
class FlattenImpl : public ParameterFreeImpl {
public:
    explicit FlattenImpl(const Flatten&) {}

    const float* forward(const Context&, const float*, const float* x, float*, std::size_t) {
        return x;
    }
    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t) {
        return dx ? dy : nullptr;
    }
};

} // namespace ctnn
