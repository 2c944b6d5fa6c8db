// Sequential<Input<...>, Layers...>: a network whose topology is a type list.
// Shapes, parameter counts, parameter offsets and fusion are computed at
// compile time; the batch size is the only run-time extent.
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "ctnn/backend/cpu/backend.hpp"
#include "ctnn/core/bind.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/passes.hpp"
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

// Where layer LayerIndex's parameters start in the flat buffer: every layer
// owns its parameters in list order, fused or not.
template <std::size_t LayerIndex, class... Bound>
constexpr std::size_t parameter_offset(mp_list<Bound...>) {
    return ((Bound::index < LayerIndex ? Bound::param_count : 0) + ... + std::size_t{0});
}

// The group whose last layer is LayerIndex, or npos: a layer fused with the
// activation after it has no stored output of its own.
template <std::size_t LayerIndex, class... G>
constexpr std::size_t group_ending_at(mp_list<G...>) {
    constexpr std::array<std::size_t, sizeof...(G)> last{G::last::index...};
    for (std::size_t g = 0; g < last.size(); ++g)
        if (last[g] == LayerIndex) return g;
    return std::numeric_limits<std::size_t>::max();
}

} // namespace detail

template <class Backend, bool Fuse, class First, class... Layers>
class Network {
    static_assert(is_input<First>,
                  "ctnn: a Sequential starts with ctnn::Input<dims...>, e.g. Sequential<Input<784>, "
                  "Dense<10>>");
    using bound_layers = detail::bind_layers<typename detail::first_shape<First>::type, Layers...>;
    using groups = detail::group_layers<bound_layers, Fuse>;
    using configs = detail::ConfigList<First, Layers...>;
    using passes = detail::Passes<Backend, groups, typename detail::first_shape<First>::type>;

public:
    using backend = Backend;
    using input_shape = typename detail::first_shape<First>::type;
    // Each layer bound to its place: BoundLayer<index, layer, input_shape>.
    using layers = bound_layers;
    using output_shape = typename boost::mp11::mp_back<
        boost::mp11::mp_push_front<bound_layers, detail::BoundInput<input_shape>>>::output_shape;
    static constexpr std::size_t param_count = passes::param_count;
    static constexpr std::size_t layer_count = sizeof...(Layers);
    static constexpr bool fused = Fuse;
    // Run-time units: how many impls run, after fusion.
    static constexpr std::size_t pass_count = passes::count;

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
          passes_(configs_),
          params_(param_count),
          grads_(param_count) {
        std::uint64_t seed = 0;
        ((seed = select_seed(args, seed)), ...);
        initialize(seed);
    }

    // Draws fresh initial weights.
    void initialize(std::uint64_t seed) {
        Rng rng(seed);
        passes_.initialize(params_.data(), rng);
    }

    std::span<float> parameters() { return params_; }
    std::span<const float> parameters() const { return params_; }
    std::span<float> gradients() { return grads_; }
    std::span<const float> gradients() const { return grads_; }

    // The layer descriptors as configured (hyper-parameters).
    template <std::size_t LayerIndex>
    const auto& layer() const {
        return detail::config_at<LayerIndex>(configs_);
    }

    // One layer's slice of parameters(), counted as layer<I>() counts (the
    // Input is 0); Conv2D's holds the kernel (F, C, KH, KW), then the bias.
    template <std::size_t LayerIndex>
    std::span<float> layer_parameters() {
        return std::span<float>(params_).subspan(layer_parameter_offset<LayerIndex>(),
                                                 bound_layer<LayerIndex>::param_count);
    }
    template <std::size_t LayerIndex>
    std::span<const float> layer_parameters() const {
        return std::span<const float>(params_).subspan(layer_parameter_offset<LayerIndex>(),
                                                       bound_layer<LayerIndex>::param_count);
    }

    // Layer LayerIndex's output rows for the samples of the last forward()
    // call (what Keras's intermediate models give), valid until the next one;
    // a layer that passes its input through returns that input.
    template <std::size_t LayerIndex>
    std::span<const float> layer_output() const {
        static_assert(LayerIndex >= 1 && LayerIndex <= layer_count,
                      "ctnn: layer index out of range: layer 1 is the one after the Input");
        constexpr std::size_t group = detail::group_ending_at<LayerIndex>(groups{});
        static_assert(group != std::numeric_limits<std::size_t>::max(),
                      "ctnn: this layer runs fused with the layers after it (an activation, or "
                      "a BatchNorm or MaxPool2D after a Conv2D), so its own output is never "
                      "stored; ask for the output of the group's last layer or use Net::unfused");
        if (last_batch_ == 0)
            throw std::logic_error("ctnn: layer_output() needs a forward() call first");
        return {passes_.output(group),
                last_batch_ * bound_layer<LayerIndex>::output_shape::size};
    }

    // Sizes every workspace for batches up to max_batch. Forward calls do it on
    // demand; calling it first keeps later calls free of allocation.
    void reserve(std::size_t max_batch) { passes_.reserve(max_batch); }

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
        context.layer = 0;
        const float* y = passes_.forward(context, params_.data(), inputs.data(), batch);
        last_batch_ = batch;
        return {y, batch * output_shape::size};
    }

    // Where the loss writes d(loss)/d(output) before backward(); it holds
    // batch * output_shape::size floats and is overwritten by backward().
    float* output_gradient() { return passes_.output_gradient(); }

    // Back-propagates the gradient in output_gradient() through the passes of
    // the last forward() call, filling gradients(). SkipLast > 0 starts below
    // the last passes: a loss folded into the output activation (softmax with
    // cross-entropy) writes the gradient of that activation's input instead.
    template <std::size_t SkipLast = 0>
    void backward(Context context, std::size_t batch) {
        if (batch != last_batch_)
            throw std::logic_error("ctnn: backward for a batch of " + std::to_string(batch) +
                                   " samples follows a forward pass of " +
                                   std::to_string(last_batch_));
        context.layer = 0;
        passes_.template backward<SkipLast>(context, params_.data(), grads_.data(), nullptr, batch);
    }

    // Sum of the layers' regularisation losses.
    float penalty() const { return passes_.penalty(params_.data()); }

    // Calls f(std::span<float>) on each buffer of non-trainable state, in
    // layer order: each BatchNorm's running mean then running variance
    // (non_trainable_count values per layer), also inside fused groups and
    // residual blocks. Saving a model writes them after the parameters.
    template <class F>
    void for_each_state(F&& f) {
        passes_.for_each_state(f);
    }
    template <class F>
    void for_each_state(F&& f) const {
        passes_.for_each_state(f);
    }

    // The layer type of the last pass if it runs alone, else void: a loss
    // may fold into it (softmax with cross-entropy).
    using output_layer = typename detail::last_bare_layer<groups>::type;

private:
    template <std::size_t LayerIndex>
    using bound_layer = boost::mp11::mp_at_c<bound_layers, LayerIndex - 1>;

    template <std::size_t LayerIndex>
    static constexpr std::size_t layer_parameter_offset() {
        static_assert(LayerIndex >= 1 && LayerIndex <= layer_count,
                      "ctnn: layer index out of range: layer 1 is the one after the Input");
        return detail::parameter_offset<LayerIndex>(bound_layers{});
    }

    template <class... Args, std::size_t... A>
    static configs configure(std::index_sequence<A...>, const Args&... args) {
        configs result;
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
            detail::config_at<Position>(result) = arg;
    }

    static std::uint64_t select_seed(const auto& arg, std::uint64_t current) {
        if constexpr (std::is_same_v<std::decay_t<decltype(arg)>, Seed>)
            return arg.value;
        else
            return current;
    }

    configs configs_;
    passes passes_;
    typename Backend::template buffer<float> params_;
    typename Backend::template buffer<float> grads_;
    std::size_t last_batch_ = 0;
};

template <class... Layers>
using Sequential = Network<backend::Cpu, true, Layers...>;

} // namespace ctnn
