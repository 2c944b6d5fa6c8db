// The layer protocol, as concepts. A layer type (Dense<10>, Tanh, ...) is a
// descriptor: it holds run-time hyper-parameters and tells, from its input
// Shape, everything the type system needs; its impl is the code that runs.
// Binding a layer checks both, so that a type missing a member gets one
// static_assert naming the member, with the layer and its position in the
// instantiation context, instead of an error deep inside the pass engine.
//
// A descriptor provides
//
//   static constexpr std::string_view type_name;          // "Dense": summaries, files
//   template <std::size_t LayerIndex, class InputShape>
//   static consteval auto output_shape();                 // a Shape; its static_asserts
//                                                         // are the layer's shape errors
//   template <class InputShape, class Backend>
//   using impl = ...;
//
// and optionally its arrays (core/parameters.hpp: parameters<InputShape>(),
// state<InputShape>(), sublayers) and its role in fusion (core/fusion.hpp:
// `using fusion_role = ...`).
//
// An impl is constructed from its descriptor and provides
//
//   const float* forward(const LayerCall<Backend>&, const float* x, float* y);
//       // returns y, or x for a layer that passes its input through
//   float* backward(const LayerCall<Backend>&, const float* x, const float* y,
//                   float* dy, float* dx);
//       // writes the parameter gradients into call.grads and, unless dx is
//       // null, the input gradient: returns dx, or dy when it worked in place
//
// and optionally `void reserve(const Backend&, std::size_t max_batch)`, which
// sizes its per-batch workspaces so that steps never allocate.
//
// Impls hold no pointers into the network's buffers (parameters and state
// arrive with each call), so a network copies like a value. Initialisation,
// regularisation and saving need nothing from an impl: they read the
// declared arrays.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "ctnn/core/context.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

// Everything a layer's forward or backward call gets besides its tensors.
template <class Backend>
struct LayerCall {
    const Backend& backend;
    Context context;
    std::size_t batch = 0;
    const float* params = nullptr;  // this layer's parameters, in declaration order
    float* grads = nullptr;         // backward: where their gradients go
    float* state = nullptr;         // this layer's state arrays
    // Changes whenever parameters or state may have changed other than by a
    // forward pass, so that an impl may cache what it derives from them.
    std::uint64_t version = 0;
    // Backward of a network's last layer: dy is already the gradient of the
    // input of its final activation (a loss folded into it, as softmax with
    // cross-entropy), so that derivative is left out.
    bool folded_output = false;

    // The call of a layer run on `rows` rows per sample (TimeDistributed's
    // steps, Shared's uses), sample s's being rows rows * s, ...: random
    // layers key each row on its place in the global batch (core/context.hpp).
    LayerCall rows_per_sample(std::size_t rows) const {
        LayerCall call = *this;
        call.batch = batch * rows;
        call.context.sample_offset = context.sample_offset * rows;
        call.context.global_batch = context.global_batch * rows;
        return call;
    }

    // The call a part of this layer gets: its arrays start further on.
    LayerCall part(std::size_t param_offset, std::size_t state_offset) const {
        LayerCall call = *this;
        call.params = params ? params + param_offset : nullptr;
        call.grads = grads ? grads + param_offset : nullptr;
        call.state = state ? state + state_offset : nullptr;
        call.folded_output = false;
        return call;
    }
};

template <class L>
concept LayerDescriptor = requires {
    { L::type_name } -> std::convertible_to<std::string_view>;
};

template <class I, class Backend>
concept LayerImpl = requires(I& impl, const LayerCall<Backend>& call, const float* x, float* y) {
    { impl.forward(call, x, y) } -> std::convertible_to<const float*>;
    { impl.backward(call, x, x, y, y) } -> std::convertible_to<float*>;
};

namespace detail {

// A layer that takes several tensors (Shared, Parallel, Concatenate, Add)
// says so; every other one takes a single Shape.
template <class L>
concept takes_several_inputs = requires {
    requires L::takes_several_inputs;
};

template <class L, std::size_t Index, class InputShape>
concept has_output_shape = requires { L::template output_shape<Index, InputShape>(); };

template <class L, std::size_t Index, class InputShape>
consteval bool gives_shape() {
    if constexpr (is_shapes<InputShape> && !takes_several_inputs<L>)
        return false;  // reported on its own, without the layer's shape checks
    else if constexpr (has_output_shape<L, Index, InputShape>)
        return is_shape<decltype(L::template output_shape<Index, InputShape>())> ||
               is_shapes<decltype(L::template output_shape<Index, InputShape>())>;
    else
        return false;
}

// The checks of a descriptor at position Index, each only once the ones
// before it hold: one mistake, one error. The checks are functions that
// decltype deduces, not classes: Clang marks a class whose static_assert
// failed as invalid and errs again at every use of its members, while a
// function's return type stays usable.
template <std::size_t Index, class Layer, class InputShape>
constexpr auto check_descriptor() {
    constexpr bool named = LayerDescriptor<Layer>;
    static_assert(named, "ctnn: a layer descriptor needs `static constexpr std::string_view "
                         "type_name`, the name summaries and saved files use");
    constexpr bool single = !is_shapes<InputShape> || takes_several_inputs<Layer>;
    static_assert(!named || single,
                  "ctnn: this layer takes one tensor but receives several (Shapes<...>): merge them first "
                  "with Concatenate or Add, or apply it to each with Shared<...> or Parallel<...>");
    constexpr bool shaped = named && single && gives_shape<Layer, Index, InputShape>();
    static_assert(!named || !single || shaped,
                  "ctnn: a layer descriptor needs `template <std::size_t LayerIndex, class "
                  "InputShape> static consteval auto output_shape()` returning a ctnn::Shape (or Shapes)");
    return std::bool_constant<shaped>{};
}

template <class L, class InputShape, class Backend>
concept has_impl = requires { typename L::template impl<InputShape, Backend>; };

template <class I, class L>
concept constructible_from_descriptor = std::constructible_from<I, const L&>;

template <class I, class Backend>
concept has_forward = requires(I& impl, const LayerCall<Backend>& call, const float* x, float* y) {
    { impl.forward(call, x, y) } -> std::convertible_to<const float*>;
};

template <class I, class Backend>
concept has_backward = requires(I& impl, const LayerCall<Backend>& call, const float* x, float* d) {
    { impl.backward(call, x, x, d, d) } -> std::convertible_to<float*>;
};

template <class L, class InputShape, class Backend>
struct impl_or_stand_in {
    using type = void;
};
template <class L, class InputShape, class Backend>
    requires has_impl<L, InputShape, Backend>
struct impl_or_stand_in<L, InputShape, Backend> {
    using type = typename L::template impl<InputShape, Backend>;
};

// The checks of a bound layer's impl on a backend.
template <std::size_t Index, class Layer, class InputShape, class Backend>
constexpr auto check_impl() {
    using impl = typename impl_or_stand_in<Layer, InputShape, Backend>::type;
    constexpr bool declared = has_impl<Layer, InputShape, Backend>;
    static_assert(declared, "ctnn: a layer descriptor needs `template <class InputShape, class "
                            "Backend> using impl = ...`, the code that runs the layer");
    constexpr bool constructible = declared && constructible_from_descriptor<impl, Layer>;
    static_assert(!declared || constructible,
                  "ctnn: a layer's impl needs a constructor from its descriptor, `explicit "
                  "Impl(const Layer&)`");
    constexpr bool forwards = constructible && has_forward<impl, Backend>;
    static_assert(!constructible || forwards,
                  "ctnn: a layer's impl needs `const float* forward(const ctnn::LayerCall<Backend>&, "
                  "const float* x, float* y)`");
    constexpr bool backwards = forwards && has_backward<impl, Backend>;
    static_assert(!forwards || backwards,
                  "ctnn: a layer's impl needs `float* backward(const ctnn::LayerCall<Backend>&, const "
                  "float* x, const float* y, float* dy, float* dx)`");
    return std::bool_constant<backwards>{};
}

// The impl is checked only for a valid descriptor.
template <bool Valid, std::size_t Index, class Layer, class InputShape, class Backend>
constexpr bool impl_ok() {
    if constexpr (Valid)
        return decltype(check_impl<Index, Layer, InputShape, Backend>())::value;
    else
        return false;
}

// What runs in place of a layer that failed its checks, so that the failed
// static_assert stays the only error.
struct StandInImpl {
    explicit StandInImpl(const auto&) {}
    template <class Call>
    const float* forward(const Call&, const float* x, float*) { return x; }
    template <class Call>
    float* backward(const Call&, const float*, const float*, float* dy, float*) { return dy; }
};

// The sizes of a list of bound layers' arrays.
template <class List>
struct list_counts;
template <template <class...> class List, class... Bound>
struct list_counts<List<Bound...>> {
    static constexpr std::size_t params = (std::size_t{0} + ... + Bound::param_count);
    static constexpr std::size_t state = (std::size_t{0} + ... + Bound::state_count);
};

template <class Layer, class InputShape>
struct sublayer_counts {
    static constexpr std::size_t params = 0, state = 0;
};
template <class Layer, class InputShape>
    requires composite<Layer, InputShape>
struct sublayer_counts<Layer, InputShape>
    : list_counts<typename Layer::template sublayers<InputShape>> {};

// A layer that failed its checks passes its input on, as one tensor: the
// layers after it then check themselves against something they may take.
template <class InputShape>
struct passed_on {
    using type = InputShape;
};
template <class... Parts>
struct passed_on<Shapes<Parts...>> {
    using type = Shape<Shapes<Parts...>::size>;
};

template <std::size_t Index, class Layer, class InputShape, bool Valid>
struct bound_facts {
    using output_shape = typename passed_on<InputShape>::type;
    static constexpr std::size_t param_count = 0, state_count = 0;
};
template <std::size_t Index, class Layer, class InputShape>
struct bound_facts<Index, Layer, InputShape, true> {
    using output_shape = decltype(Layer::template output_shape<Index, InputShape>());
    static constexpr std::size_t param_count =
        sublayer_counts<Layer, InputShape>::params + own_param_count<Layer, InputShape>;
    static constexpr std::size_t state_count =
        sublayer_counts<Layer, InputShape>::state + own_state_count<Layer, InputShape>;
};

} // namespace detail

// A layer placed in a network: its position and input shape are known, and
// with them its output shape and the sizes of its arrays (its sublayers'
// first, then its own).
template <std::size_t Index, class Layer, class InputShape>
struct BoundLayer {
    static constexpr std::size_t index = Index;
    using layer = Layer;
    using input_shape = InputShape;
    static constexpr bool valid =
        decltype(detail::check_descriptor<Index, Layer, InputShape>())::value;
    using facts = detail::bound_facts<Index, Layer, InputShape, valid>;
    using output_shape = typename facts::output_shape;
    static constexpr std::size_t param_count = facts::param_count;
    static constexpr std::size_t state_count = facts::state_count;

    // The impl on a backend, once it passed its checks.
    template <class Backend>
    using impl = std::conditional_t<detail::impl_ok<valid, Index, Layer, InputShape, Backend>(),
                                    typename detail::impl_or_stand_in<Layer, InputShape, Backend>::type,
                                    detail::StandInImpl>;
};

// A bound layer's own arrays of one kind as configured; none for a layer
// that failed its checks.
template <class Array, class Bound>
constexpr auto own_arrays(const typename Bound::layer& config) {
    if constexpr (Bound::valid)
        return declared_arrays<Array, typename Bound::input_shape>(config);
    else
        return std::array<Array, 0>{};
}

} // namespace ctnn
