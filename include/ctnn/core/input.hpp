// Input<dims...>: the first element of every network with one input; fixes
// the sample shape. Inputs<Shape<...>, Shape<...>>: the first element of a
// network with several, Keras's list of Input layers; a sample's row holds
// them one after another (core/shapes.hpp).
#pragma once

#include <cstddef>

#include "ctnn/core/shape.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

template <std::size_t... Dims>
struct Input {
    static_assert(sizeof...(Dims) > 0, "ctnn: Input needs at least one dimension, e.g. Input<784>");
    static_assert(((Dims > 0) && ...), "ctnn: every dimension of Input must be positive");
    using shape = Shape<Dims...>;
};

template <class... Parts>
struct Inputs {
    static_assert(sizeof...(Parts) >= 2,
                  "ctnn: Inputs needs two or more Shape<...>s; a network with one input starts with Input<dims...>");
    static_assert((is_shape<Parts> && ...), "ctnn: Inputs takes Shape<...>s, e.g. Inputs<Shape<1, 28, 84>, Shape<1, 28, 84>>");
    using shape = Shapes<Parts...>;
};

template <class T>
inline constexpr bool is_input = false;
template <std::size_t... Dims>
inline constexpr bool is_input<Input<Dims...>> = true;
template <class... Parts>
inline constexpr bool is_input<Inputs<Parts...>> = true;

} // namespace ctnn
