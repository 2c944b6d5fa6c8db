// Visiting every array of a list of bound layers, sublayers included, in the
// order of the network's flat buffers: initialisation, saving and the
// optimizers' variables all walk the declarations this way.
#pragma once

#include <array>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <memory>
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

// A visitor of both kinds of arrays behind two function pointers: each
// layer's walk is compiled once, whatever visits it (initialisation, the
// variable list, saving), and each visitor once, not once per layer.
class ArrayVisitor {
public:
    template <class Visit>
    explicit ArrayVisitor(Visit& visit)
        : visit_(const_cast<void*>(static_cast<const void*>(std::addressof(visit)))),
          parameter_([](void* v, const ArrayPath& path, const ParameterArray& array, std::size_t offset) {
              (*static_cast<Visit*>(v))(path, array, offset);
          }),
          state_([](void* v, const ArrayPath& path, const StateArray& array, std::size_t offset) {
              (*static_cast<Visit*>(v))(path, array, offset);
          }) {}

    void operator()(const ArrayPath& path, const ParameterArray& array, std::size_t offset) const {
        parameter_(visit_, path, array, offset);
    }
    void operator()(const ArrayPath& path, const StateArray& array, std::size_t offset) const {
        state_(visit_, path, array, offset);
    }

private:
    void* visit_;
    void (*parameter_)(void*, const ArrayPath&, const ParameterArray&, std::size_t);
    void (*state_)(void*, const ArrayPath&, const StateArray&, std::size_t);
};

template <class Array, std::size_t N>
void visit_each(const std::array<Array, N>& arrays, const ArrayPath& path, std::size_t& offset,
                const ArrayVisitor& visit) {
    for (const Array& array : arrays) {
        visit(path, array, offset);
        offset += array.size();
    }
}

// A layer that failed its checks has no arrays, and may have no type_name.
template <class Bound>
void visit_arrays(const typename Bound::layer& config, const ArrayPath& outer, ArrayOffsets& at,
                  const ArrayVisitor& visit) {
    using Layer = typename Bound::layer;
    using In = typename Bound::input_shape;
    if constexpr (Bound::valid) {
        const ArrayPath path = outer.inside({Bound::index, Layer::type_name});
        if constexpr (composite<Layer, In>) {
            [&]<class... Sub>(boost::mp11::mp_list<Sub...>) {
                (visit_arrays<Sub>(config_at<Sub::index - 1>(config.body), path, at, visit), ...);
            }(typename Layer::template sublayers<In>{});
        }
        visit_each(own_arrays<ParameterArray, Bound>(config), path, at.params, visit);
        visit_each(own_arrays<StateArray, Bound>(config), path, at.state, visit);
    }
}

} // namespace detail

// visit(path, array, offset) for each ParameterArray and StateArray of the
// bound layers, whose configured descriptors config_of(bound) returns;
// offsets count from the start of the list's parameters and state.
template <class BoundList, class ConfigOf, class Visit>
void for_each_array(ConfigOf&& config_of, Visit&& visit) {
    detail::ArrayOffsets at;
    const detail::ArrayVisitor erased(visit);
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        (detail::visit_arrays<Bound>(config_of(Bound{}), ArrayPath{}, at, erased), ...);
    }(BoundList{});
}

} // namespace ctnn
