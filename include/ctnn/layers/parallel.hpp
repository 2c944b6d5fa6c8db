// Parallel<Layers...>: the k-th layer applied to the k-th of several inputs,
// each with its own weights: the two towers of a two-input model, which may
// differ in shape and in layers.
//
//   using Net = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 28, 28>, ctnn::Shape<16>>,
//                                ctnn::Parallel<ctnn::Branch<ctnn::Conv2D<8, 3>, ctnn::ReLU, ctnn::Flatten>,
//                                               ctnn::Dense<8>>,
//                                ctnn::Concatenate, ctnn::Dense<10>, ctnn::Softmax>;
//
// Each layer runs on its input's rows, gathered from the samples' rows into
// a contiguous batch of their own, and its outputs go back into the
// samples' output rows (Shapes<Out0, Out1, ...>).
//
// Arrays: the first layer's, then the second's, ... (its sublayers).
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <string_view>
#include <utility>

#include "ctnn/core/config_list.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/passes.hpp"
#include "ctnn/core/row_parts.hpp"
#include "ctnn/core/shapes.hpp"
#include "ctnn/core/slots.hpp"

namespace ctnn {

namespace detail {

// The layers bound each to its input: BoundLayer<k + 1, Layer k, Part k>;
// none where the counts differ (an error Parallel reports).
template <class Parts, class Layers, class Indices>
struct bind_each {
    using type = boost::mp11::mp_list<>;
};
template <class... Parts, class... Layers, std::size_t... K>
struct bind_each<Shapes<Parts...>, boost::mp11::mp_list<Layers...>, std::index_sequence<K...>> {
    using type = boost::mp11::mp_list<BoundLayer<K + 1, Layers, Parts>...>;
};
template <class InputShape, class... Layers>
struct ParallelBinding {
    using bound = boost::mp11::mp_list<>;
    static constexpr bool valid = false;
};
template <class... Parts, class... Layers>
    requires(sizeof...(Parts) == sizeof...(Layers))
struct ParallelBinding<Shapes<Parts...>, Layers...> {
    using bound = typename bind_each<Shapes<Parts...>, boost::mp11::mp_list<Layers...>,
                                     std::index_sequence_for<Layers...>>::type;
    static constexpr bool valid = true;
};

template <class... Bound>
consteval bool all_single(boost::mp11::mp_list<Bound...>) {
    return (is_shape<typename Bound::output_shape> && ...);
}

} // namespace detail

template <class Bound, class Backend>
class ParallelImpl;

template <class... Layers>
struct Parallel {
    static_assert(sizeof...(Layers) >= 2, "ctnn: Parallel needs a layer for each of two or more inputs");
    static constexpr std::string_view type_name = "Parallel";
    static constexpr bool takes_several_inputs = true;

    // The layers, as configured.
    detail::ConfigList<Layers...> body;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        using binding = detail::ParallelBinding<InputShape, Layers...>;
        static_assert(binding::valid,
                      "ctnn: Parallel applies its k-th layer to the k-th input, so it needs as many "
                      "layers as inputs (Shapes<...>)");
        if constexpr (binding::valid) {
            static_assert(detail::all_single(typename binding::bound{}),
                          "ctnn: a layer inside Parallel must give one tensor");
            return []<class... Bound>(boost::mp11::mp_list<Bound...>) {
                return Shapes<typename Bound::output_shape...>{};
            }(typename binding::bound{});
        } else {
            return InputShape{};
        }
    }
    template <class InputShape>
    using sublayers = typename detail::ParallelBinding<InputShape, Layers...>::bound;
    template <class InputShape, class Backend>
    using impl = ParallelImpl<typename detail::ParallelBinding<InputShape, Layers...>::bound, Backend>;
};

template <class... Bound, class Backend>
class ParallelImpl<boost::mp11::mp_list<Bound...>, Backend> {
    static constexpr std::size_t count = sizeof...(Bound);
    using input_shape = Shapes<typename Bound::input_shape...>;
    using output_shape = Shapes<typename Bound::output_shape...>;
    static constexpr std::array<std::size_t, count + 1> param_offsets = [] {
        std::array<std::size_t, count + 1> at{};
        std::size_t k = 0;
        ((at[k + 1] = at[k] + Bound::param_count, ++k), ...);
        return at;
    }();
    static constexpr std::array<std::size_t, count + 1> state_offsets = [] {
        std::array<std::size_t, count + 1> at{};
        std::size_t k = 0;
        ((at[k + 1] = at[k] + Bound::state_count, ++k), ...);
        return at;
    }();
    using impls = detail::Slots<typename Bound::template impl<Backend>...>;
    using buffer = typename Backend::template buffer<float>;

public:
    template <class Config>
    explicit ParallelImpl(const Config& config)
        : impls_(std::in_place, detail::config_at<Bound::index - 1>(config.body)...) {}

    void reserve(const Backend& backend, std::size_t max_batch) {
        for_each_layer([&](auto k, auto& impl) {
            using B = boost::mp11::mp_at_c<boost::mp11::mp_list<Bound...>, k>;
            inputs_[k].resize(max_batch * B::input_shape::size);
            outputs_[k].resize(max_batch * B::output_shape::size);
            gradients_[k].resize(max_batch * B::output_shape::size);
            input_gradients_[k].resize(max_batch * B::input_shape::size);
            if constexpr (requires { impl.reserve(backend, max_batch); }) impl.reserve(backend, max_batch);
        });
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        for_each_layer([&](auto k, auto& impl) {
            using B = boost::mp11::mp_at_c<boost::mp11::mp_list<Bound...>, k>;
            constexpr std::size_t in = B::input_shape::size, out = B::output_shape::size;
            call.backend.for_each(call.batch * in, detail::TakePart{x, input_shape::size, input_shape::offsets[k], in,
                                                                    inputs_[k].data()});
            const float* part_y = impl.forward(part(call, k), inputs_[k].data(), outputs_[k].data());
            results_[k] = part_y;
            call.backend.for_each(call.batch * out,
                                  detail::PutPart{part_y, out, y, output_shape::size, output_shape::offsets[k]});
        });
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        for_each_layer([&](auto k, auto& impl) {
            using B = boost::mp11::mp_at_c<boost::mp11::mp_list<Bound...>, k>;
            constexpr std::size_t in = B::input_shape::size, out = B::output_shape::size;
            // The part's output gradient goes where its output was: a layer
            // that passed its input through gets it in its input's buffer.
            float* part_dy = gradients_[k].data();
            call.backend.for_each(call.batch * out, detail::TakePart{dy, output_shape::size, output_shape::offsets[k],
                                                                     out, part_dy});
            float* part_dx = dx ? input_gradients_[k].data() : nullptr;
            const float* given = impl.backward(part(call, k), inputs_[k].data(), results_[k], part_dy, part_dx);
            if (dx)
                call.backend.for_each(call.batch * in,
                                      detail::PutPart{given, in, dx, input_shape::size, input_shape::offsets[k]});
        });
        return dx;
    }

private:
    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (f(std::integral_constant<std::size_t, K>{}, detail::slot<K>(impls_)), ...);
        }(std::make_index_sequence<count>{});
    }

    // Layer k's call: its arrays, and a random stream apart from the others'.
    static LayerCall<Backend> part(const LayerCall<Backend>& call, std::size_t k) {
        LayerCall<Backend> layer = call.part(param_offsets[k], state_offsets[k]);
        layer.context.stream = detail::layer_stream(call.context.stream + 1, k + 1);
        return layer;
    }

    impls impls_;
    std::array<buffer, count> inputs_, outputs_, gradients_, input_gradients_;
    std::array<const float*, count> results_{};
};

} // namespace ctnn
