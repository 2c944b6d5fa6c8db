// Flatten: Shape<C, H, W> to Shape<C*H*W>. Activations are already contiguous
// in that order, so it is a view: no copy forward or backward.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/view.hpp"

namespace ctnn {

struct Flatten {
    static constexpr std::string_view type_name = "Flatten";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return Shape<InputShape::size>{};
    }
    template <class InputShape, class Backend>
    using impl = ViewImpl<Backend>;
};

} // namespace ctnn
