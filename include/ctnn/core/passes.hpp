// The engine that runs a grouped layer list: it owns the impls and their
// workspaces and runs them over parameters it is handed. A Network wraps one
// around its parameter buffers; a Residual block runs its body with one.
#pragma once

#include <algorithm>
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn::detail {

template <class List, std::size_t... I>
constexpr auto exclusive_prefix_sums(std::index_sequence<I...>, auto size_of) {
    std::array<std::size_t, sizeof...(I) + 1> sums{};
    std::size_t running = 0, i = 0;
    ((sums[i++] = running, running += size_of(boost::mp11::mp_at_c<List, I>{})), ...);
    sums[i] = running;
    return sums;
}

// The largest per-sample size among the input and the groups' outputs.
template <class Groups, std::size_t... G>
constexpr std::size_t widest_shape(std::size_t input_size, std::index_sequence<G...>) {
    return std::max({input_size, boost::mp11::mp_at_c<Groups, G>::output_shape::size...});
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
    using impls = boost::mp11::mp_rename<boost::mp11::mp_transform<impl_of, Groups>, std::tuple>;

    static constexpr auto param_offsets = exclusive_prefix_sums<Groups>(
        std::make_index_sequence<group_count>{}, [](auto g) { return decltype(g)::param_count; });
    static constexpr auto activation_offsets = exclusive_prefix_sums<Groups>(
        std::make_index_sequence<group_count>{},
        [](auto g) { return decltype(g)::output_shape::size; });
    static constexpr std::size_t widest =
        widest_shape<Groups>(InputShape::size, std::make_index_sequence<group_count>{});

public:
    static constexpr std::size_t count = group_count;
    static constexpr std::size_t param_count = param_offsets[group_count];

    // `configs` holds each layer's descriptor at its bound index.
    template <class Configs>
    explicit Passes(const Configs& configs)
        : impls_(make_impls(configs, std::make_index_sequence<group_count>{})) {}

    void initialize(float* params, Rng& rng) {
        for_each([&](auto g, auto& impl) { impl.initialize(params + param_offsets[g], rng); });
    }

    void reserve(std::size_t max_batch) {
        if (max_batch <= capacity_) return;
        capacity_ = max_batch;
        activations_.resize(activation_offsets[group_count] * capacity_);
        for (auto& buffer : gradient_buffers_) buffer.resize(widest * capacity_);
        for_each([&](auto, auto& impl) { impl.reserve(capacity_); });
    }

    // Runs the passes; context.layer is the base of the layers' streams.
    const float* forward(Context context, const float* params, const float* x, std::size_t batch) {
        reserve(batch);
        const std::uint64_t base = context.layer;
        for_each([&](auto g, auto& impl) {
            context.layer = layer_stream(base, group_at<decltype(g)::value>::first::index);
            inputs_[g] = x;
            x = impl.forward(context, params + param_offsets[g], x,
                             activations_.data() + activation_offsets[g] * capacity_, batch);
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
    // forward(), below the last SkipLast of them; writes the parameter
    // gradients, and the input gradient when input_gradient is not null
    // (returned, as it may have been computed in place elsewhere).
    template <std::size_t SkipLast = 0>
    float* backward(Context context, const float* params, float* grads, float* input_gradient,
                    std::size_t batch) {
        static_assert(SkipLast <= group_count);
        const std::uint64_t base = context.layer;
        return backward_from<group_count - SkipLast>(context, base, params, grads,
                                                     output_gradient(), input_gradient, batch);
    }

    // Calls f(std::span<float>) on each buffer of non-trainable state
    // (BatchNorm's running statistics), in layer order.
    template <class F>
    void for_each_state(F&& f) {
        for_each([&](auto, auto& impl) {
            if constexpr (requires { impl.for_each_state(f); }) impl.for_each_state(f);
        });
    }
    template <class F>
    void for_each_state(F&& f) const {
        for_each([&](auto, const auto& impl) {
            if constexpr (requires { impl.for_each_state(f); }) impl.for_each_state(f);
        });
    }

    float penalty(const float* params) const {
        float total = 0.0f;
        for_each([&](auto g, const auto& impl) { total += impl.penalty(params + param_offsets[g]); });
        return total;
    }

private:
    template <class Configs, std::size_t... G>
    static impls make_impls(const Configs& configs, std::index_sequence<G...>) {
        return impls(group_impl<Backend, group_at<G>>::make(configs)...);
    }

    template <class F>
    void for_each(F&& f) {
        [&]<std::size_t... G>(std::index_sequence<G...>) {
            (f(std::integral_constant<std::size_t, G>{}, std::get<G>(impls_)), ...);
        }(std::make_index_sequence<group_count>{});
    }
    template <class F>
    void for_each(F&& f) const {
        [&]<std::size_t... G>(std::index_sequence<G...>) {
            (f(std::integral_constant<std::size_t, G>{}, std::get<G>(impls_)), ...);
        }(std::make_index_sequence<group_count>{});
    }

    template <std::size_t G>
    float* backward_from(Context& context, std::uint64_t base, const float* params, float* grads,
                         float* gradient, float* input_gradient, std::size_t batch) {
        if constexpr (G == 0) {
            return gradient;
        } else {
            constexpr std::size_t g = G - 1;
            context.layer = layer_stream(base, group_at<g>::first::index);
            float* other = gradient == gradient_buffers_[0].data() ? gradient_buffers_[1].data()
                                                                    : gradient_buffers_[0].data();
            // Below a group that only parameter-free layers precede (a first
            // Conv2D after GaussianNoise), no gradient is needed unless the
            // caller asked for the input's.
            const bool needed_below = param_offsets[g] > 0 || input_gradient != nullptr;
            float* dx = g == 0 ? input_gradient : needed_below ? other : nullptr;
            gradient = std::get<g>(impls_).backward(context, params + param_offsets[g],
                                                    grads + param_offsets[g], inputs_[g],
                                                    outputs_[g], gradient, dx, batch);
            if (!needed_below) return nullptr;
            return backward_from<g>(context, base, params, grads, gradient, input_gradient, batch);
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
