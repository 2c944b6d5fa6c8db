// The layer descriptors of a network, side by side, one slot per layer.
//
// Each slot owns its bytes (core/slots.hpp).
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/core/slots.hpp"

namespace ctnn::detail {

template <class... T>
struct ConfigList : Slots<T...> {};

// config_at<I>(list): the I-th descriptor, const if the list is.
template <std::size_t I, class List>
auto& config_at(List& list) {
    return slot<I>(list);
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

// Configuring by type: the n-th argument of type L goes to the n-th layer of
// type L, counted depth-first in declaration order, so that a layer inside
// another (a Shared branch's Dropout, a Residual body's BatchNorm) is
// configured as a top-level one is: Net net{ctnn::Dropout{0.3f}}.

// A layer's place: its slot, then its slot in that layer's body, ...
template <std::size_t... Slots>
struct ConfigPath {};

template <class Path, class Layer>
struct ConfigEntry {
    using path = Path;
    using layer = Layer;
};

template <class T>
inline constexpr bool is_config_list = false;
template <class... T>
inline constexpr bool is_config_list<ConfigList<T...>> = true;

// A layer that holds others keeps their descriptors in `body`, a ConfigList.
template <class Layer>
struct body_of {
    using type = boost::mp11::mp_list<>;
};
template <class Layer>
    requires requires(Layer& layer) { requires is_config_list<std::remove_cvref_t<decltype(layer.body)>>; }
struct body_of<Layer> {
    using type = boost::mp11::mp_rename<std::remove_cvref_t<decltype(std::declval<Layer&>().body)>, boost::mp11::mp_list>;
};

template <class Path, class List, class Indices = std::make_index_sequence<boost::mp11::mp_size<List>::value>>
struct list_entries;
// The entry of a layer at Path, then those of the layers it holds.
template <class Path, class Layer>
using layer_entries = boost::mp11::mp_push_front<typename list_entries<Path, typename body_of<Layer>::type>::type,
                                                 ConfigEntry<Path, Layer>>;
template <std::size_t... P, class... T, std::size_t... I>
struct list_entries<ConfigPath<P...>, boost::mp11::mp_list<T...>, std::index_sequence<I...>> {
    using type = boost::mp11::mp_append<boost::mp11::mp_list<>, layer_entries<ConfigPath<P..., I>, T>...>;
};

// Every layer of a list, depth-first: mp_list<ConfigEntry<path, layer>...>.
template <class... T>
using config_entries = typename list_entries<ConfigPath<>, boost::mp11::mp_list<T...>>::type;

// Where the N-th entry of type Arg is in Entries (index; found: whether there is one).
template <class Arg, std::size_t N, class Entries>
struct nth_of_type {
    static constexpr std::size_t index = [] {
        constexpr std::size_t size = boost::mp11::mp_size<Entries>::value;
        std::array<bool, size + 1> same{};
        std::size_t i = 0;
        boost::mp11::mp_for_each<Entries>([&](auto entry) {
            same[i++] = std::is_same_v<typename decltype(entry)::layer, Arg>;
        });
        for (std::size_t k = 0, seen = 0; k < size; ++k)
            if (same[k] && seen++ == N) return k;
        return size;
    }();
    static constexpr bool found = index < boost::mp11::mp_size<Entries>::value;
};

// The descriptor at Path in a list, set to `value`.
template <std::size_t First, std::size_t... Rest, class List, class Value>
void assign_at(List& list, ConfigPath<First, Rest...>, const Value& value) {
    auto& config = config_at<First>(list);
    if constexpr (sizeof...(Rest) == 0)
        config = value;
    else
        assign_at(config.body, ConfigPath<Rest...>{}, value);
}

} // namespace ctnn::detail
