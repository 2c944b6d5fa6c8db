// The layer descriptors of a network, side by side, one slot per layer.
//
// Each slot owns its bytes (core/slots.hpp).
#pragma once

#include <cstddef>
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

} // namespace ctnn::detail
