// Shapes<A, B, ...>: several tensors per sample, where a network has several
// inputs (Inputs<A, B>) or several branches (Shared, Parallel), until a merge
// (Concatenate, Add) makes one tensor of them again. A sample's row holds
// the tensors one after another, each contiguous, so a batch of two inputs of
// Shape<1, 28, 84> is one buffer of batch rows of 2 * 2352 values, the first
// image of each sample before its second.
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <string>
#include <type_traits>

#include "ctnn/core/shape.hpp"

namespace ctnn {

template <class... Parts>
struct Shapes {
    static_assert(sizeof...(Parts) >= 2, "ctnn: Shapes<...> holds two or more Shape<...>s");
    static constexpr std::size_t count = sizeof...(Parts);
    static constexpr std::size_t size = (Parts::size + ...);
    // Part I's values and where they start in a sample's row.
    static constexpr std::array<std::size_t, count> sizes{Parts::size...};
    static constexpr std::array<std::size_t, count> offsets = [] {
        std::array<std::size_t, count> at{};
        for (std::size_t i = 1; i < count; ++i) at[i] = at[i - 1] + sizes[i - 1];
        return at;
    }();
    // Every part the same shape: what one shared branch or a sum can take.
    static constexpr bool uniform = (std::is_same_v<Parts, boost::mp11::mp_first<boost::mp11::mp_list<Parts...>>> && ...);

    template <std::size_t I>
    using part = boost::mp11::mp_at_c<boost::mp11::mp_list<Parts...>, I>;
};

template <class T>
inline constexpr bool is_shapes = false;
template <class... Parts>
inline constexpr bool is_shapes<Shapes<Parts...>> = true;

namespace detail {

// Several tensors of one shape (what Shared and Add take): that shape and
// how many; the input itself, once, where it is not (an error they report).
template <class InputShape>
struct UniformParts {
    using part = InputShape;
    static constexpr std::size_t count = 1;
    static constexpr bool valid = false;
};
template <class... Parts>
struct UniformParts<Shapes<Parts...>> {
    using part = typename Shapes<Parts...>::template part<0>;
    static constexpr std::size_t count = sizeof...(Parts);
    static constexpr bool valid = Shapes<Parts...>::uniform;
};

} // namespace detail

// Shapes<Part, Part, ...> with N parts.
template <std::size_t N, class Part>
using repeated_shapes = boost::mp11::mp_rename<boost::mp11::mp_repeat_c<boost::mp11::mp_list<Part>, N>, Shapes>;

// "Shapes<Shape<1, 28, 84>, Shape<1, 28, 84>>".
template <class... Parts>
std::string to_string(Shapes<Parts...>) {
    std::string text = "Shapes<";
    ((text += to_string(Parts{}) + ", "), ...);
    text.resize(text.size() - 2);
    return text + ">";
}

// "[(None, 1, 28, 84), (None, 1, 28, 84)]": Keras's list of shapes.
template <class... Parts>
std::string batch_shape_string(Shapes<Parts...>) {
    std::string text = "[";
    ((text += batch_shape_string(Parts{}) + ", "), ...);
    text.resize(text.size() - 2);
    return text + "]";
}

} // namespace ctnn
