// Binding a layer list to its input shape: each layer learns its position and
// input shape, and so its output shape and parameter count.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include "ctnn/core/layer.hpp"

namespace ctnn::detail {

using boost::mp11::mp_back;
using boost::mp11::mp_fold;
using boost::mp11::mp_list;
using boost::mp11::mp_push_back;
using boost::mp11::mp_size;

// The Input as a bound layer at index 0, so that binding is one fold.
template <class InputShape>
struct BoundInput {
    using output_shape = InputShape;
};

template <class Bound, class Layer>
using bind_next =
    mp_push_back<Bound, BoundLayer<mp_size<Bound>::value, Layer, typename mp_back<Bound>::output_shape>>;

template <class InputShape, class... Layers>
using bind_layers = boost::mp11::mp_pop_front<
    mp_fold<mp_list<Layers...>, mp_list<BoundInput<InputShape>>, bind_next>>;

} // namespace ctnn::detail
