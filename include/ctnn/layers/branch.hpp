// Branch<Layers...>: a layer list used as one layer, as a Keras Sequential
// model is called as a layer: what Shared applies to each input and Parallel
// to one of them. Its layers are bound, checked and fused as a network's.
//
//   using Reader = ctnn::Branch<ctnn::Conv2D<32, 3>, ctnn::ReLU, ctnn::MaxPool2D<2>,
//                               ctnn::Flatten, ctnn::Dense<64>, ctnn::ReLU>;
//
// Arrays: its layers' (its sublayers), in order.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <string_view>

#include "ctnn/core/bind.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/input.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/passes.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

namespace detail {

// A layer list's output shape on InputShape.
template <class InputShape, class... Layers>
using list_output = typename mp_back<mp_fold<mp_list<Layers...>, mp_list<BoundInput<InputShape>>, bind_next>>::output_shape;

// The pass engine of a layer list inside a layer, fused as a network's.
template <class Backend, class InputShape, class... Layers>
using body_passes = Passes<Backend,
                           group_layers<bind_layers<InputShape, Layers...>,
                                        typename fusion_rules_for<Backend>::type, Fusion::fused>,
                           InputShape>;

// The engine of a layer list run as one layer on a call's batch. A part of
// Branch's and Shared's impls.
template <class InputShape, class Backend, class... Layers>
class BodyRunner {
    using passes = body_passes<Backend, InputShape, Layers...>;
    using output_shape = list_output<InputShape, Layers...>;

public:
    explicit BodyRunner(const ConfigList<Layers...>& body) : passes_(behind<Input<1>>(body)) {}

    void reserve(const Backend& backend, std::size_t max_batch) { passes_.reserve(backend, max_batch); }

    const float* forward(const LayerCall<Backend>& call, const float* x) { return passes_.forward(inside(call), x); }
    float* backward(const LayerCall<Backend>& call, const float* dy, float* dx) {
        call.backend.copy(dy, passes_.output_gradient(), call.batch * output_shape::size);
        return passes_.backward(inside(call), dx);
    }

private:
    // The list's layers draw from streams apart from the outer layers'.
    static LayerCall<Backend> inside(const LayerCall<Backend>& call) {
        LayerCall<Backend> body = call;
        body.context.stream = call.context.stream + 1;
        body.folded_output = false;
        return body;
    }

    passes passes_;
};

} // namespace detail

template <class InputShape, class Backend, class... Layers>
class BranchImpl;

template <class... Layers>
struct Branch {
    static_assert(sizeof...(Layers) > 0, "ctnn: Branch needs at least one layer");
    static constexpr std::string_view type_name = "Branch";

    // The layers, as configured (defaults unless set through
    // detail::config_at<I>(layers)).
    detail::ConfigList<Layers...> body;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        return detail::list_output<InputShape, Layers...>{};
    }
    template <class InputShape>
    using sublayers = detail::bind_layers<InputShape, Layers...>;
    template <class InputShape, class Backend>
    using impl = BranchImpl<InputShape, Backend, Layers...>;
};

template <class InputShape, class Backend, class... Layers>
class BranchImpl {
public:
    explicit BranchImpl(const Branch<Layers...>& config) : body_(config.body) {}

    void reserve(const Backend& backend, std::size_t max_batch) { body_.reserve(backend, max_batch); }

    const float* forward(const LayerCall<Backend>& call, const float* x, float*) { return body_.forward(call, x); }
    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        return body_.backward(call, dy, dx);
    }

private:
    detail::BodyRunner<InputShape, Backend, Layers...> body_;
};

} // namespace ctnn
