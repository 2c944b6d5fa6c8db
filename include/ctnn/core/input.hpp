// Input<dims...>: the first element of every network; fixes the sample shape.
#pragma once

#include <cstddef>

#include "ctnn/core/shape.hpp"

namespace ctnn {

template <std::size_t... Dims>
struct Input {
    static_assert(sizeof...(Dims) > 0, "ctnn: Input needs at least one dimension, e.g. Input<784>");
    static_assert(((Dims > 0) && ...), "ctnn: every dimension of Input must be positive");
    using shape = Shape<Dims...>;
};

template <class T>
inline constexpr bool is_input = false;
template <std::size_t... Dims>
inline constexpr bool is_input<Input<Dims...>> = true;

} // namespace ctnn
