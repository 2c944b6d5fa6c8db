// branch_network<I>(net): the layers a Shared or a Branch at layer I holds,
// as a network of their own (Keras's model.get_layer("reader"), a model in
// its own right): the same layer descriptors, a copy of the branch's
// parameters and state, one of the layer's inputs as its input. What the
// tools for one-input networks start from, e.g. a shared reader's first maps:
//
//   plot::activations<1>(ctnn::branch_network<1>(siamese), one_image, "reader.png");
//
// A Shared or Branch whose only layer is a Branch (Shared<Reader> with
// Reader = Branch<...>) gives that Branch's layers, so that layer 1 is the
// reader's first. Fused like the network it comes from; a copy, so training
// it leaves the network as it was.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/core/input.hpp"
#include "ctnn/core/network.hpp"
#include "ctnn/core/shapes.hpp"
#include "ctnn/layers/branch.hpp"
#include "ctnn/layers/shared.hpp"

namespace ctnn {

namespace detail {

template <class Shape>
struct input_of;
template <std::size_t... Dims>
struct input_of<Shape<Dims...>> {
    using type = Input<Dims...>;
};

// The layers a Shared or a Branch holds, and the shape each of them gets.
template <class Layer, class InputShape>
struct branch_of {
    static constexpr bool valid = false;
};
template <class... Layers, class InputShape>
struct branch_of<Shared<Layers...>, InputShape> {
    static constexpr bool valid = true;
    using input = typename UniformParts<InputShape>::part;
    using layers = boost::mp11::mp_list<Layers...>;
};
template <class... Layers, class InputShape>
struct branch_of<Branch<Layers...>, InputShape> {
    static constexpr bool valid = true;
    using input = InputShape;
    using layers = boost::mp11::mp_list<Layers...>;
};

// A body of one Branch stands for that Branch's layers.
template <class List>
struct unwrapped {
    using type = List;
    template <class Body>
    static const Body& body(const Body& body) { return body; }
};
template <class... Layers>
struct unwrapped<boost::mp11::mp_list<Branch<Layers...>>> {
    using type = boost::mp11::mp_list<Layers...>;
    template <class Body>
    static const auto& body(const Body& body) { return config_at<0>(body).body; }
};

template <class Backend, bool Fused, class Input, class List>
struct network_of;
template <class Backend, bool Fused, class Input, class... Layers>
struct network_of<Backend, Fused, Input, boost::mp11::mp_list<Layers...>> {
    using type = Network<Backend, Fused ? Fusion::fused : Fusion::unfused, Input, Layers...>;
};

} // namespace detail

template <std::size_t LayerIndex, class Net>
auto branch_network(const Net& net) {
    static_assert(LayerIndex >= 1 && LayerIndex <= Net::layer_count,
                  "ctnn: layer index out of range: layer 1 is the one after the Input");
    // (Clamped, so that a wrong index fails the assertion above only.)
    constexpr std::size_t at = LayerIndex >= 1 && LayerIndex <= Net::layer_count ? LayerIndex - 1 : 0;
    using bound = boost::mp11::mp_at_c<typename Net::layers, at>;
    using branch = detail::branch_of<typename bound::layer, typename bound::input_shape>;
    static_assert(branch::valid, "ctnn: branch_network<I> takes the index of a Shared<...> or a Branch<...> layer");
    if constexpr (branch::valid) {
        using layers = typename detail::unwrapped<typename branch::layers>::type;
        using input = typename detail::input_of<typename branch::input>::type;
        using Inner = typename detail::network_of<typename Net::backend_type, Net::fused, input, layers>::type;
        static_assert(Inner::param_count == bound::param_count && Inner::state_count == bound::state_count);
        Inner inner{net.backend()};
        inner.configure_as(detail::behind<input>(
            detail::unwrapped<typename branch::layers>::body(net.template layer<LayerIndex>().body)));
        const std::vector<float> parameters = net.host_parameters(), state = net.host_state();
        inner.set_parameters(std::span<const float>(parameters)
                                 .subspan(detail::parameter_offset<LayerIndex>(typename Net::layers{}), Inner::param_count));
        inner.set_state(std::span<const float>(state).subspan(
            detail::state_offset<LayerIndex>(typename Net::layers{}), Inner::state_count));
        return inner;
    }
}

} // namespace ctnn
