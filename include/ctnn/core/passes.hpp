// The engine that runs a grouped layer list: it owns the impls and their
// workspaces and runs them over parameters and state it is handed. A Network
// wraps one around its buffers; a Residual block runs its body with one.
#pragma once

#include <algorithm>
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "ctnn/core/config_list.hpp"
#include "ctnn/core/fused_group.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/core/slots.hpp"

namespace ctnn::detail {

// The impl that runs a group, and what it is built from: a lone layer's own
// impl, from its descriptor; a fused group's, from all of them.
template <class Backend, class G>
struct group_impl;
template <class Backend, class Bound>
struct group_impl<Backend, Group<Bound>> {
    using type = typename Bound::template impl<Backend>;
    template <class Configs>
    static const auto& built_from(const Configs& configs) {
        return config_at<Bound::index>(configs);
    }
};
template <class Backend, class... Bound>
    requires(sizeof...(Bound) > 1)
struct group_impl<Backend, Group<Bound...>> {
    using type = FusedGroup<Backend, Bound...>;
    template <class Configs>
    static const Configs& built_from(const Configs& configs) {
        return configs;
    }
};

// RepeatVector and the recurrent layer after it: the recurrent layer's impl
// for a repeated input (layers/recurrent.hpp), which reads the vector itself.
template <class Backend, class Repeat, class Recurrent>
    requires std::is_same_v<fusion::bound_role<Repeat>, fusion::repetition>
struct group_impl<Backend, Group<Repeat, Recurrent>> {
    using type = typename Recurrent::layer::template repeated_impl<typename Recurrent::input_shape, Backend>;
    template <class Configs>
    static const auto& built_from(const Configs& configs) {
        return config_at<Recurrent::index>(configs);
    }
};

template <class List, std::size_t... I>
constexpr auto exclusive_prefix_sums(std::index_sequence<I...>, auto size_of) {
    std::array<std::size_t, sizeof...(I) + 1> sums{};
    std::size_t running = 0, i = 0;
    ((sums[i++] = running, running += size_of(boost::mp11::mp_at_c<List, I>{})), ...);
    sums[i] = running;
    return sums;
}

// Each layer's dropout mask and noise get their own random stream: a layer of
// a nested list (a residual body, base > 0) is told apart from the outer ones.
constexpr std::uint64_t layer_stream(std::uint64_t base, std::size_t index) {
    return base * 4096 + index;
}

template <class Backend, class Groups, class InputShape>
class Passes {
    static constexpr std::size_t group_count = boost::mp11::mp_size<Groups>::value;
    template <std::size_t G>
    using group_at = boost::mp11::mp_at_c<Groups, G>;
    template <class G>
    using impl_of = typename group_impl<Backend, G>::type;
    using impls = boost::mp11::mp_rename<boost::mp11::mp_transform<impl_of, Groups>, Slots>;
    static constexpr auto groups = std::make_index_sequence<group_count>{};

    static constexpr auto param_offsets = exclusive_prefix_sums<Groups>(
        groups, [](auto g) { return decltype(g)::param_count; });
    static constexpr auto state_offsets = exclusive_prefix_sums<Groups>(
        groups, [](auto g) { return decltype(g)::state_count; });
    static constexpr auto activation_offsets = exclusive_prefix_sums<Groups>(
        groups, [](auto g) { return decltype(g)::output_shape::size; });
    static constexpr std::size_t widest = [] {
        std::size_t w = InputShape::size;
        boost::mp11::mp_for_each<Groups>([&](auto g) { w = std::max(w, decltype(g)::output_shape::size); });
        return w;
    }();
public:
    static constexpr std::size_t count = group_count;
    static constexpr std::size_t param_count = param_offsets[group_count];
    static constexpr std::size_t state_count = state_offsets[group_count];

    // `configs` holds each layer's descriptor at its bound index.
    template <class Configs>
    explicit Passes(const Configs& configs)
        : impls_(make_impls(configs, groups)) {}

    void reserve(const Backend& backend, std::size_t max_batch) {
        if (max_batch <= capacity_) return;
        activations_.resize(activation_offsets[group_count] * max_batch);
        for (auto& buffer : gradient_buffers_) buffer.resize(widest * max_batch);
        for_each_group([&](auto, auto& impl) {
            if constexpr (requires { impl.reserve(backend, max_batch); }) impl.reserve(backend, max_batch);
        });
        // Only once every buffer has grown: after a failed allocation the
        // capacity stays what the buffers still hold.
        capacity_ = max_batch;
    }

    // Runs the passes; call.context.stream is the base of the layers' streams.
    const float* forward(const LayerCall<Backend>& call, const float* x) {
        reserve(call.backend, call.batch);
        const std::uint64_t base = call.context.stream;
        for_each_group([&](auto g, auto& impl) {
            LayerCall<Backend> part = call.part(param_offsets[g], state_offsets[g]);
            part.context.stream = layer_stream(base, group_at<decltype(g)::value>::first::index);
            inputs_[g] = x;
            x = impl.forward(part, x, activations_.data() + activation_offsets[g] * capacity_);
            outputs_[g] = x;
        });
        return x;
    }

    // Group g's output rows from the last forward(); a group that passes its
    // input through (Flatten, inference-mode Dropout) points at that input.
    const float* output(std::size_t g) const { return outputs_[g]; }

    // Where d(loss)/d(output) goes before backward(); overwritten by it.
    float* output_gradient() { return gradient_buffers_[0].data(); }

    // Back-propagates output_gradient() through the passes of the last
    // forward(), writing the parameter gradients (call.grads), and the input
    // gradient when input_gradient is not null (returned, as it may have been
    // computed in place elsewhere). call.folded_output goes to the last group.
    float* backward(const LayerCall<Backend>& call, float* input_gradient) {
        return backward_from<group_count>(call, output_gradient(), input_gradient);
    }

private:
    template <class Configs, std::size_t... G>
    static impls make_impls(const Configs& configs, std::index_sequence<G...>) {
        return impls(std::in_place, group_impl<Backend, group_at<G>>::built_from(configs)...);
    }

    template <class F>
    void for_each_group(F&& f) {
        [&]<std::size_t... G>(std::index_sequence<G...>) {
            (f(std::integral_constant<std::size_t, G>{}, slot<G>(impls_)), ...);
        }(groups);
    }

    template <std::size_t G>
    float* backward_from(const LayerCall<Backend>& call, float* gradient, float* input_gradient) {
        if constexpr (G == 0) {
            return gradient;
        } else {
            constexpr std::size_t g = G - 1;
            LayerCall<Backend> part = call.part(param_offsets[g], state_offsets[g]);
            part.context.stream = layer_stream(call.context.stream, group_at<g>::first::index);
            part.folded_output = g + 1 == group_count && call.folded_output;
            float* other = gradient == gradient_buffers_[0].data() ? gradient_buffers_[1].data()
                                                                    : gradient_buffers_[0].data();
            // Below a group that only parameter-free layers precede (a first
            // Conv2D after GaussianNoise), no gradient is needed unless the
            // caller asked for the input's.
            const bool needed_below = param_offsets[g] > 0 || input_gradient != nullptr;
            float* dx = g == 0 ? input_gradient : needed_below ? other : nullptr;
            gradient = slot<g>(impls_).backward(part, inputs_[g], outputs_[g], gradient, dx);
            if (!needed_below) return nullptr;
            return backward_from<g>(call, gradient, input_gradient);
        }
    }

    impls impls_;
    typename Backend::template buffer<float> activations_;
    std::array<typename Backend::template buffer<float>, 2> gradient_buffers_;
    std::array<const float*, group_count + 1> inputs_{};
    std::array<const float*, group_count + 1> outputs_{};
    std::size_t capacity_ = 0;
};

} // namespace ctnn::detail
