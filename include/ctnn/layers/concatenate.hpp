// Concatenate: several tensors (Shapes<...>) joined along their first axis:
// the features of vectors, Shape<a> and Shape<b> to Shape<a + b>, or the
// channels of images of one size, Shape<c1, H, W> and Shape<c2, H, W> to
// Shape<c1 + c2, H, W> (Keras's Concatenate over the feature or, channels
// first, the channel axis). A sample's tensors already lie one after another
// in its row, which is that order, so it is a view: no copy forward or
// backward.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/view.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

namespace detail {

template <class S>
struct tail_of {
    using type = S;
};
template <std::size_t First, std::size_t... Rest>
struct tail_of<Shape<First, Rest...>> {
    using type = Shape<Rest...>;
};

// Shape<the first extents summed, the others>, where every part agrees with
// the others after the first extent; `joinable` says whether they do.
template <class InputShape>
struct Joined {
    static constexpr bool joinable = false;
    using type = InputShape;
};
template <std::size_t First, std::size_t... Rest, class... Parts>
struct Joined<Shapes<Shape<First, Rest...>, Parts...>> {
    static constexpr bool joinable = (std::is_same_v<typename tail_of<Parts>::type, Shape<Rest...>> && ...);
    using type = Shape<(First + ... + Parts::dims[0]), Rest...>;
};

} // namespace detail

struct Concatenate {
    static constexpr std::string_view type_name = "Concatenate";
    static constexpr bool takes_several_inputs = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(is_shapes<InputShape>,
                      "ctnn: Concatenate joins several tensors (after Inputs, Shared or Parallel), but "
                      "receives one");
        static_assert(!is_shapes<InputShape> || detail::Joined<InputShape>::joinable,
                      "ctnn: Concatenate joins vectors, or images of one size along their channels: "
                      "its inputs must agree in every extent after the first (Flatten them first)");
        return typename detail::Joined<InputShape>::type{};
    }
    template <class InputShape, class Backend>
    using impl = ViewImpl<Backend>;
};

} // namespace ctnn
