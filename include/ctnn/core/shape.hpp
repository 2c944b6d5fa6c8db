// Static tensor shapes: Shape<C, H, W> names the extents of one sample; the
// batch size is the only run-time extent and is never part of a Shape.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace ctnn {

template <std::size_t... Dims>
struct Shape {
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
    static constexpr std::array<std::size_t, rank> dims{Dims...};

    // Extent I, counted from the front.
    template <std::size_t I>
    static constexpr std::size_t dim = dims[I];
};

template <class T>
inline constexpr bool is_shape = false;
template <std::size_t... Dims>
inline constexpr bool is_shape<Shape<Dims...>> = true;

namespace detail {

// Extent I of S, or 1 where S has none: an impl stays well-formed when its
// layer's shape check fails, so the static_assert stays the only error.
template <class S>
consteval std::size_t extent_or_one(std::size_t i) {
    return i < S::rank && S::dims[i] > 0 ? S::dims[i] : 1;
}

} // namespace detail

// "Shape<32, 12, 12>", for summaries and run-time error messages.
template <std::size_t... Dims>
std::string to_string(Shape<Dims...>) {
    std::string text = "Shape<";
    ((text += std::to_string(Dims) + ", "), ...);
    if constexpr (sizeof...(Dims) > 0) text.resize(text.size() - 2);
    return text + ">";
}

// "(None, 32, 12, 12)": the Keras spelling, with the batch axis first.
template <std::size_t... Dims>
std::string batch_shape_string(Shape<Dims...>) {
    std::string text = "(None";
    ((text += ", " + std::to_string(Dims)), ...);
    return text + ")";
}

} // namespace ctnn
