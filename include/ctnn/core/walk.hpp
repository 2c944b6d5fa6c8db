// Visiting every array of a list of bound layers, sublayers included, in the
// order of the network's flat buffers: initialisation, saving and the
// optimizers' variables all walk the declarations this way.
#pragma once

#include <array>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "ctnn/core/config_list.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"

namespace ctnn {

// Where an array sits: the layer that declares it, inside the layers that
// hold that one (a Residual's body), outermost first.
struct ArrayPath {
    struct Step {
        std::size_t index;      // from 1, within the enclosing list
        std::string_view type;  // the layer's type_name
    };
    static constexpr std::size_t max_depth = 8;
    std::array<Step, max_depth> steps{};
    std::size_t depth = 0;

    ArrayPath inside(Step step) const {
        ArrayPath path = *this;
        if (depth < max_depth) path.steps[path.depth++] = step;
        return path;
    }
};

// "layer_03_Residual/layer_1_Conv2D": the names saved files use for the
// path's layers (`width` digits for the outermost index).
inline std::string layer_name(std::size_t index, std::string_view type, std::size_t width) {
    std::string number = std::to_string(index);
    if (number.size() < width) number.insert(0, width - number.size(), '0');
    return "layer_" + number + "_" + std::string(type);
}

namespace detail {

struct ArrayOffsets {
    std::size_t params = 0;
    std::size_t state = 0;
};

// A layer that failed its checks has no arrays, and may have no type_name.
template <class Bound, class Visit>
void visit_arrays(const typename Bound::layer& config, const ArrayPath& outer, ArrayOffsets& at,
                  Visit& visit) {
    using Layer = typename Bound::layer;
    using In = typename Bound::input_shape;
    if constexpr (Bound::valid) {
        const ArrayPath path = outer.inside({Bound::index, Layer::type_name});
        if constexpr (composite<Layer, In>) {
            [&]<class... Sub>(boost::mp11::mp_list<Sub...>) {
                (visit_arrays<Sub>(config_at<Sub::index - 1>(config.body), path, at, visit), ...);
            }(typename Layer::template sublayers<In>{});
        }
        auto visit_all = [&](const auto& arrays, std::size_t& offset) {
            for (const auto& array : arrays) {
                visit(path, array, offset);
                offset += array.size();
            }
        };
        visit_all(own_arrays<ParameterArray, Bound>(config), at.params);
        visit_all(own_arrays<StateArray, Bound>(config), at.state);
    }
}

} // namespace detail

// visit(path, array, offset) for each ParameterArray and StateArray of the
// bound layers, whose configured descriptors config_of(bound) returns;
// offsets count from the start of the list's parameters and state.
template <class BoundList, class ConfigOf, class Visit>
void for_each_array(ConfigOf&& config_of, Visit&& visit) {
    detail::ArrayOffsets at;
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        (detail::visit_arrays<Bound>(config_of(Bound{}), ArrayPath{}, at, visit), ...);
    }(BoundList{});
}

} // namespace ctnn
