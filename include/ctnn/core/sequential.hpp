// Sequential<Input<...>, Layers...>: a network whose topology is a type list.
// Shapes, parameter counts, parameter offsets and fusion are computed at
// compile time; the batch size is the only run-time extent.
#pragma once

#include <algorithm>
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/backend/cpu/backend.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/input.hpp"

namespace ctnn {

// Seeds a network's weight initialisation: Net net{ctnn::Seed{42}}.
struct Seed {
    std::uint64_t value = 0;
};

namespace detail {

// A stand-in shape when the first layer is not an Input, so that the one
// static_assert in Network is the only error.
template <class First>
struct first_shape {
    using type = Shape<1>;
};
template <std::size_t... Dims>
struct first_shape<Input<Dims...>> {
    using type = Shape<Dims...>;
};

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

template <class List, std::size_t... I>
constexpr auto exclusive_prefix_sums(std::index_sequence<I...>, auto size_of) {
    std::array<std::size_t, sizeof...(I) + 1> sums{};
    std::size_t running = 0, i = 0;
    ((sums[i++] = running, running += size_of(boost::mp11::mp_at_c<List, I>{})), ...);
    sums[i] = running;
    return sums;
}

template <class T, class... Candidates>
concept one_of = (std::is_same_v<T, Candidates> || ...);

// Position of the N-th layer of type T in Layers, or npos.
template <class T, std::size_t N, class... Layers>
constexpr std::size_t nth_position() {
    constexpr std::array<bool, sizeof...(Layers)> same{std::is_same_v<T, Layers>...};
    std::size_t seen = 0;
    for (std::size_t i = 0; i < same.size(); ++i)
        if (same[i] && seen++ == N) return i;
    return std::numeric_limits<std::size_t>::max();
}

// The largest per-sample size among the input and the groups' outputs.
template <class Groups, std::size_t... G>
constexpr std::size_t widest_shape(std::size_t input_size, std::index_sequence<G...>) {
    return std::max({input_size, boost::mp11::mp_at_c<Groups, G>::output_shape::size...});
}

// The layer type of a group that runs one layer alone; void for a fused one.
template <class G>
struct bare_layer {
    using type = void;
};
template <class Bound>
struct bare_layer<Group<Bound>> {
    using type = typename Bound::layer;
};

template <class Groups>
struct last_bare_layer {
    using type = typename bare_layer<mp_back<Groups>>::type;
};
template <>
struct last_bare_layer<mp_list<>> {
    using type = void;
};

} // namespace detail

template <class Backend, bool Fuse, class First, class... Layers>
class Network {
    static_assert(is_input<First>,
                  "ctnn: a Sequential starts with ctnn::Input<dims...>, e.g. Sequential<Input<784>, "
                  "Dense<10>>");
    using bound_layers = detail::bind_layers<typename detail::first_shape<First>::type, Layers...>;
    using groups = detail::group_layers<bound_layers, Fuse>;
    static constexpr std::size_t group_count = boost::mp11::mp_size<groups>::value;
    template <class G>
    using impl_of = typename detail::group_impl<Backend, G>::type;
    using impls = boost::mp11::mp_rename<boost::mp11::mp_transform<impl_of, groups>, std::tuple>;
    using configs = std::tuple<First, Layers...>;
    template <std::size_t G>
    using group_at = boost::mp11::mp_at_c<groups, G>;

    static constexpr auto param_offsets = detail::exclusive_prefix_sums<groups>(
        std::make_index_sequence<group_count>{}, [](auto g) { return decltype(g)::param_count; });
    static constexpr auto activation_offsets = detail::exclusive_prefix_sums<groups>(
        std::make_index_sequence<group_count>{},
        [](auto g) { return decltype(g)::output_shape::size; });
    static constexpr std::size_t widest = detail::widest_shape<groups>(
        detail::first_shape<First>::type::size, std::make_index_sequence<group_count>{});

public:
    using backend = Backend;
    using input_shape = typename detail::first_shape<First>::type;
    // Each layer bound to its place: BoundLayer<index, layer, input_shape>.
    using layers = bound_layers;
    using output_shape = typename boost::mp11::mp_back<
        boost::mp11::mp_push_front<bound_layers, detail::BoundInput<input_shape>>>::output_shape;
    static constexpr std::size_t param_count = param_offsets[group_count];
    static constexpr std::size_t layer_count = sizeof...(Layers);
    static constexpr bool fused = Fuse;
    // Run-time units: how many impls run, after fusion.
    static constexpr std::size_t pass_count = group_count;

    // The same network without fusion (for tests) or on another backend.
    using unfused = Network<Backend, false, First, Layers...>;
    template <class OtherBackend>
    using on = Network<OtherBackend, Fuse, First, Layers...>;

    // Arguments configure layers by type: the n-th argument of type L goes to
    // the n-th layer of type L; the others keep their defaults. A Seed
    // argument seeds the weight initialisation.
    template <class... Args>
        requires(detail::one_of<Args, Seed, Layers...> && ...)
    explicit Network(const Args&... args)
        : configs_(configure(std::index_sequence_for<Args...>{}, args...)),
          impls_(make_impls(std::make_index_sequence<group_count>{})),
          params_(param_count),
          grads_(param_count) {
        std::uint64_t seed = 0;
        ((seed = select_seed(args, seed)), ...);
        initialize(seed);
    }

    // Draws fresh initial weights.
    void initialize(std::uint64_t seed) {
        Rng rng(seed);
        for_each_group([&](auto g, auto& impl) {
            impl.initialize(params_.data() + param_offsets[g], rng);
        });
    }

    std::span<float> parameters() { return params_; }
    std::span<const float> parameters() const { return params_; }
    std::span<float> gradients() { return grads_; }
    std::span<const float> gradients() const { return grads_; }

    // The layer descriptors as configured (hyper-parameters).
    template <std::size_t LayerIndex>
    const auto& layer() const {
        return std::get<LayerIndex>(configs_);
    }

    // Sizes every workspace for batches up to max_batch. Forward calls do it on
    // demand; calling it first keeps later calls free of allocation.
    void reserve(std::size_t max_batch) {
        if (max_batch <= capacity_) return;
        capacity_ = max_batch;
        activations_.resize(activation_offsets[group_count] * capacity_);
        for (auto& buffer : gradient_buffers_) buffer.resize(widest * capacity_);
        for_each_group([&](auto, auto& impl) { impl.reserve(capacity_); });
    }

    // Runs `batch` samples (rows of input_shape::size floats) through the
    // network; returns the output rows, owned by the network and valid until
    // the next call.
    std::span<const float> forward(std::span<const float> inputs, std::size_t batch,
                                   Context context = {}) {
        if (batch == 0 || inputs.size() != batch * input_shape::size)
            throw std::invalid_argument(
                "ctnn: forward got " + std::to_string(inputs.size()) + " values for " +
                std::to_string(batch) + " samples, but the network's input is " +
                to_string(input_shape{}) + " (" + std::to_string(input_shape::size) +
                " values per sample)");
        reserve(batch);
        const float* x = inputs.data();
        for_each_group([&](auto g, auto& impl) {
            context.layer = group_at<decltype(g)::value>::first::index;
            group_inputs_[g] = x;
            x = impl.forward(context, params_.data() + param_offsets[g], x,
                             activations_.data() + activation_offsets[g] * capacity_, batch);
            group_outputs_[g] = x;
        });
        last_batch_ = batch;
        return {x, batch * output_shape::size};
    }

    // Where the loss writes d(loss)/d(output) before backward(); it holds
    // batch * output_shape::size floats and is overwritten by backward().
    float* output_gradient() { return gradient_buffers_[0].data(); }

    // Back-propagates the gradient in output_gradient() through the passes of
    // the last forward() call, filling gradients(). SkipLast > 0 starts below
    // the last passes: a loss folded into the output activation (softmax with
    // cross-entropy) writes the gradient of that activation's input instead.
    template <std::size_t SkipLast = 0>
    void backward(const Context& context_in, std::size_t batch) {
        static_assert(SkipLast <= group_count);
        if (batch != last_batch_)
            throw std::logic_error("ctnn: backward for a batch of " + std::to_string(batch) +
                                   " samples follows a forward pass of " +
                                   std::to_string(last_batch_));
        Context context = context_in;
        float* gradient = output_gradient();
        backward_from<group_count - SkipLast>(context, gradient, batch);
    }

    // Sum of the layers' regularisation losses.
    float penalty() const {
        float total = 0.0f;
        for_each_group([&](auto g, const auto& impl) {
            total += impl.penalty(params_.data() + param_offsets[g]);
        });
        return total;
    }

    // The layer type of the last pass if it runs alone, else void: a loss
    // may fold into it (softmax with cross-entropy).
    using output_layer = typename detail::last_bare_layer<groups>::type;

private:
    template <class... Args, std::size_t... A>
    static configs configure(std::index_sequence<A...>, const Args&... args) {
        configs result{};
        (assign<position_for<A, Args...>()>(result, args), ...);
        return result;
    }

    // The layer that the K-th constructor argument configures.
    template <std::size_t K, class... Args>
    static constexpr std::size_t position_for() {
        using arg = boost::mp11::mp_at_c<boost::mp11::mp_list<Args...>, K>;
        if constexpr (std::is_same_v<arg, Seed>) {
            return std::numeric_limits<std::size_t>::max();
        } else {
            constexpr std::size_t earlier = boost::mp11::mp_count<
                boost::mp11::mp_take_c<boost::mp11::mp_list<Args...>, K>, arg>::value;
            constexpr std::size_t position = detail::nth_position<arg, earlier, First, Layers...>();
            static_assert(position != std::numeric_limits<std::size_t>::max(),
                          "ctnn: more constructor arguments of a layer type than layers of that "
                          "type in the network");
            return position;
        }
    }

    template <std::size_t Position, class Arg>
    static void assign(configs& result, const Arg& arg) {
        if constexpr (Position != std::numeric_limits<std::size_t>::max())
            std::get<Position>(result) = arg;
    }

    static std::uint64_t select_seed(const auto& arg, std::uint64_t current) {
        if constexpr (std::is_same_v<std::decay_t<decltype(arg)>, Seed>)
            return arg.value;
        else
            return current;
    }

    template <std::size_t... G>
    impls make_impls(std::index_sequence<G...>) const {
        return impls(detail::group_impl<Backend, group_at<G>>::make(configs_)...);
    }

    template <class F>
    void for_each_group(F&& f) {
        [&]<std::size_t... G>(std::index_sequence<G...>) {
            (f(std::integral_constant<std::size_t, G>{}, std::get<G>(impls_)), ...);
        }(std::make_index_sequence<group_count>{});
    }
    template <class F>
    void for_each_group(F&& f) const {
        [&]<std::size_t... G>(std::index_sequence<G...>) {
            (f(std::integral_constant<std::size_t, G>{}, std::get<G>(impls_)), ...);
        }(std::make_index_sequence<group_count>{});
    }

    template <std::size_t G>
    void backward_from(Context& context, float* gradient, std::size_t batch) {
        if constexpr (G > 0) {
            constexpr std::size_t g = G - 1;
            context.layer = group_at<g>::first::index;
            float* other = gradient == gradient_buffers_[0].data() ? gradient_buffers_[1].data()
                                                                    : gradient_buffers_[0].data();
            float* dx = g == 0 ? nullptr : other;
            gradient = std::get<g>(impls_).backward(
                context, params_.data() + param_offsets[g], grads_.data() + param_offsets[g],
                group_inputs_[g], group_outputs_[g], gradient, dx, batch);
            backward_from<g>(context, gradient, batch);
        }
    }

    configs configs_;
    impls impls_;
    typename Backend::template buffer<float> params_;
    typename Backend::template buffer<float> grads_;
    typename Backend::template buffer<float> activations_;
    std::array<typename Backend::template buffer<float>, 2> gradient_buffers_;
    std::array<const float*, group_count + 1> group_inputs_{};
    std::array<const float*, group_count + 1> group_outputs_{};
    std::size_t capacity_ = 0;
    std::size_t last_batch_ = 0;
};

template <class... Layers>
using Sequential = Network<backend::Cpu, true, Layers...>;

} // namespace ctnn
