// Reshape<Dims...>: the same values seen as Shape<Dims...> (Keras's Reshape),
// e.g. Dense<33> then Reshape<3, 11> for three 11-way answers, each with its
// own softmax. Activations are contiguous, so it is a view: no copy forward
// or backward. The sizes must agree, checked when the network is declared.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/view.hpp"

namespace ctnn {

template <std::size_t... Dims>
struct Reshape {
    static_assert(sizeof...(Dims) > 0 && ((Dims > 0) && ...), "ctnn: Reshape needs one or more positive extents");
    static constexpr std::string_view type_name = "Reshape";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(InputShape::size == (Dims * ...), "ctnn: Reshape's shape must hold exactly its input's values");
        return Shape<Dims...>{};
    }
    template <class InputShape, class Backend>
    using impl = ViewImpl<Backend>;
};

} // namespace ctnn
