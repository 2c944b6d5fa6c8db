// The layer descriptors of a network, side by side, one slot per layer.
//
// Not std::tuple, on purpose: GCC 12's libstdc++ lets an empty element share
// storage with the next one ([[no_unique_address]]), and value-initialising
// the empty one then zeroes its neighbour: std::tuple<ReLU, BatchNorm>{} holds
// a BatchNorm with epsilon 0. Here each slot owns its bytes.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace ctnn::detail {

template <std::size_t I, class T>
struct ConfigSlot {
    constexpr ConfigSlot() : value() {}
    T value;
};

template <class Indices, class... T>
struct ConfigSlots;
template <std::size_t... I, class... T>
struct ConfigSlots<std::index_sequence<I...>, T...> : ConfigSlot<I, T>... {};

template <class... T>
struct ConfigList : ConfigSlots<std::index_sequence_for<T...>, T...> {
    using types = boost::mp11::mp_list<T...>;
};

// config_at<I>(list): the I-th descriptor, const if the list is.
template <std::size_t I, class List>
auto& config_at(List& list) {
    using slot = ConfigSlot<I, boost::mp11::mp_at_c<typename std::remove_const_t<List>::types, I>>;
    return static_cast<std::conditional_t<std::is_const_v<List>, const slot, slot>&>(list).value;
}

// The same descriptors behind a placeholder at slot 0, where a layer list
// keeps its Input (bound layers count from 1).
template <class Placeholder, class... T>
ConfigList<Placeholder, T...> behind(const ConfigList<T...>& list) {
    ConfigList<Placeholder, T...> result;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((config_at<I + 1>(result) = config_at<I>(list)), ...);
    }(std::index_sequence_for<T...>{});
    return result;
}

} // namespace ctnn::detail
