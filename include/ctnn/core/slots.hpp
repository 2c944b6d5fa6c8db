// Objects side by side, one slot per index: a network's layer descriptors
// (core/config_list.hpp), its groups' impls (core/passes.hpp), a fused
// group's members' impls (core/fused_group.hpp).
//
// Not std::tuple, on purpose. GCC 12's libstdc++ lets an empty element share
// storage with the next one ([[no_unique_address]]), and value-initialising
// the empty one then zeroes its neighbour: std::tuple<ReLU, BatchNorm>{}
// holds a BatchNorm with epsilon 0; here each slot owns its bytes. And a
// tuple instantiates a chain of bases, constructors and get helpers per
// element, which every network type pays for in compile time; a slot is one
// base and one accessor.
#pragma once

#include <cstddef>
#include <utility>

namespace ctnn::detail {

template <std::size_t I, class T>
struct Slot {
    constexpr Slot() : value() {}
    template <class Argument>
    constexpr explicit Slot(std::in_place_t, Argument&& argument) : value(std::forward<Argument>(argument)) {}
    T value;
};

template <class Indices, class... T>
struct SlotsOver;
template <std::size_t... I, class... T>
struct SlotsOver<std::index_sequence<I...>, T...> : Slot<I, T>... {
    constexpr SlotsOver() = default;
    // Slot I's object built from arguments[I].
    template <class... Arguments>
    constexpr explicit SlotsOver(std::in_place_t, Arguments&&... arguments)
        : Slot<I, T>(std::in_place, std::forward<Arguments>(arguments))... {}
};

template <class... T>
using Slots = SlotsOver<std::index_sequence_for<T...>, T...>;

// slot<I>(slots): the object in slot I (its type deduced from the base).
template <std::size_t I, class T>
constexpr T& slot(Slot<I, T>& s) {
    return s.value;
}
template <std::size_t I, class T>
constexpr const T& slot(const Slot<I, T>& s) {
    return s.value;
}

} // namespace ctnn::detail
