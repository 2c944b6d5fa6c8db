// Shared<Layers...>: one branch, with ONE set of weights, applied to each of
// several inputs of the same shape: the siamese network, Keras's
// `reader = Sequential(...); reader(a); reader(b)`.
//
//   using Reader = ctnn::Branch<ctnn::Conv2D<32, 3>, ctnn::ReLU, ctnn::Flatten, ctnn::Dense<64>>;
//   using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 28, 84>, ctnn::Shape<1, 28, 84>>,
//                                ctnn::Shared<Reader>, ctnn::Concatenate, ctnn::Dense<10>, ctnn::Softmax>;
//
// A sample's inputs lie one after another in its row, so a batch of B
// samples with N inputs of one shape is already a batch of N * B inputs, in
// the order (sample 0 input 0, sample 0 input 1, sample 1 input 0, ...): the
// branch runs ONCE on that batch, and its outputs are the N outputs of each
// sample, one after another, as Shapes<Out, Out, ...> wants them. So no use
// of the branch overwrites what another's backward needs, and the weight
// gradient, summed over the N * B rows, is the sum over the uses that shared
// weights must get. Unlike Keras's shared layers, a BatchNorm inside takes
// its batch statistics over every use's samples together (one batch of
// N * B, one running-average update per step).
//
// Arrays: the branch's layers' (its sublayers), stored once.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/config_list.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/shapes.hpp"
#include "ctnn/layers/branch.hpp"

namespace ctnn {

template <class Part, std::size_t Uses, class Backend, class... Layers>
class SharedImpl;

template <class... Layers>
struct Shared {
    static_assert(sizeof...(Layers) > 0, "ctnn: Shared needs at least one layer");
    static constexpr std::string_view type_name = "Shared";
    static constexpr bool takes_several_inputs = true;

    // The branch's layers, as configured.
    detail::ConfigList<Layers...> body;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(is_shapes<InputShape>,
                      "ctnn: Shared applies its layers to each of several inputs, but receives one "
                      "tensor: start the network with Inputs<...>, or use the layers (or a Branch) directly");
        static_assert(!is_shapes<InputShape> || detail::UniformParts<InputShape>::valid,
                      "ctnn: Shared applies one set of weights to each input, so its inputs need one "
                      "shape; give inputs of different shapes their own weights with Parallel<...>");
        using uses = detail::UniformParts<InputShape>;
        using out = detail::list_output<typename uses::part, Layers...>;
        if constexpr (is_shapes<InputShape> && is_shape<out>)
            return repeated_shapes<uses::count, out>{};
        else
            return out{};
    }
    template <class InputShape>
    using sublayers = detail::bind_layers<typename detail::UniformParts<InputShape>::part, Layers...>;
    template <class InputShape, class Backend>
    using impl = SharedImpl<typename detail::UniformParts<InputShape>::part, detail::UniformParts<InputShape>::count,
                            Backend, Layers...>;
};

// The branch, run on Uses * batch rows.
template <class Part, std::size_t Uses, class Backend, class... Layers>
class SharedImpl {
public:
    explicit SharedImpl(const Shared<Layers...>& config) : body_(config.body) {}

    void reserve(const Backend& backend, std::size_t max_batch) { body_.reserve(backend, max_batch * Uses); }

    const float* forward(const LayerCall<Backend>& call, const float* x, float*) {
        return body_.forward(every_use(call), x);
    }
    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        return body_.backward(every_use(call), dy, dx);
    }

private:
    // A sample's uses are consecutive rows.
    static LayerCall<Backend> every_use(const LayerCall<Backend>& call) { return call.rows_per_sample(Uses); }

    detail::BodyRunner<Part, Backend, Layers...> body_;
};

} // namespace ctnn
