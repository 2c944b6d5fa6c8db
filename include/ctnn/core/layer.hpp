// The layer protocol. A layer type (Dense<10>, Tanh, ...) is a descriptor: it
// holds run-time hyper-parameters and tells, from its input Shape, everything
// the type system needs:
//
//   static constexpr std::string_view type_name;            // "Dense", for summaries
//   template <std::size_t LayerIndex, class InputShape>
//   static consteval auto output_shape();                   // returns a Shape; its
//                                                           // static_asserts are the
//                                                           // layer's shape errors
//   template <class InputShape>
//   static constexpr std::size_t param_count;
//   template <class InputShape, class Backend>
//   using impl = ...;                                       // the code that runs
//
// A layer that can absorb a following element-wise activation says so with
// `fuses_activation = true` and takes the activation as a third argument of
// `impl`; activation layers expose `op()` and `is_activation = true`.
// A layer declaring `absorbs_batch_norm = true` (Conv2D) takes a following
// layer declaring `folds_into_preceding = true` (BatchNorm), and the
// activation after that, into one group; one declaring `absorbs_pooling =
// true` (Conv2D) takes, after its optional activation, a layer declaring
// `pools_in_epilogue = true` (MaxPool2D) into one group. Either group runs as
// the absorbed layer's `fused_impl<InputShape, Backend, OpenerImpl, Op>`.
//
// An impl is constructed from its descriptor (and, fused, the activation's op)
// and provides:
//
//   static constexpr std::size_t param_count;
//   void initialize(float* params, Rng&);                // also resets state (BatchNorm)
//   void reserve(std::size_t max_batch);                    // size per-batch state
//   const float* forward(const Context&, const float* params, const float* x,
//                        float* y, std::size_t batch);      // returns y, or x for a view
//   float* backward(const Context&, const float* params, float* grads, const float* x,
//                   const float* y, float* dy, float* dx, std::size_t batch);
//                                                           // returns dx, or dy when it
//                                                           // worked in place; dx is
//                                                           // null for the first layer
//   float penalty(const float* params) const;               // regularisation loss
//
// and, if it keeps non-trainable state (BatchNorm's running statistics),
//
//   template <class F> void for_each_state(F&& f);          // f(std::span<float>) per buffer
//
// Impls hold no pointers into the network's buffers (parameters arrive as
// arguments), so a network copies like a value, and a multi-branch graph can
// drive the same impls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn {

enum class Mode { inference, training };

// What a forward or backward call needs besides tensors.
struct Context {
    Mode mode = Mode::inference;
    std::uint64_t seed = 0;   // run seed: dropout masks and noise derive from it
    std::uint64_t step = 0;   // training step: a new mask every step
    std::uint64_t layer = 0;  // set by the network: each layer its own stream

    bool training() const { return mode == Mode::training; }
};

// A layer placed in a network: its position and input shape are known.
template <std::size_t Index, class Layer, class InputShape>
struct BoundLayer {
    static constexpr std::size_t index = Index;
    using layer = Layer;
    using input_shape = InputShape;
    using output_shape = decltype(Layer::template output_shape<Index, InputShape>());
    static constexpr std::size_t param_count = Layer::template param_count<InputShape>;
};

// The do-nothing part of the impl protocol, for layers without parameters.
struct ParameterFreeImpl {
    static constexpr std::size_t param_count = 0;
    void initialize(float*, Rng&) const {}
    void reserve(std::size_t) {}
    float penalty(const float*) const { return 0.0f; }
};

template <class Layer>
concept ActivationLayer = requires { requires Layer::is_activation; };

template <class Layer>
concept FusesActivation = requires { requires Layer::fuses_activation; };

template <class Layer>
concept AbsorbsBatchNorm = requires { requires Layer::absorbs_batch_norm; };

template <class Layer>
concept FoldsIntoPreceding = requires { requires Layer::folds_into_preceding; };

template <class Layer>
concept AbsorbsPooling = requires { requires Layer::absorbs_pooling; };

template <class Layer>
concept PoolsInEpilogue = requires { requires Layer::pools_in_epilogue; };

// A layer that runs the group it was absorbed into.
template <class Layer>
concept LeadsGroup = FoldsIntoPreceding<Layer> || PoolsInEpilogue<Layer>;

} // namespace ctnn
