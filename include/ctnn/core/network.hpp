// Network<Backend, Fusion, Input<...>, Layers...>: a network whose topology
// is a type list (ctnn::Sequential is the CPU one). Shapes, array sizes and
// offsets, and fusion are computed at compile time; the batch size is the
// only run-time extent.
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/bind.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/passes.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/walk.hpp"
#include "ctnn/core/input.hpp"

namespace ctnn {

// Seeds a network's weight initialisation: Net net{ctnn::Seed{42}}.
struct Seed {
    std::uint64_t value = 0;
};

// What output_gradient() holds when backward() starts: the gradient of the
// network's output, or, for a loss folded into the output activation (softmax
// with cross-entropy), that of the activation's input.
enum class OutputGradient { of_output, of_folded_activation };

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
template <class... Parts>
struct first_shape<Inputs<Parts...>> {
    using type = Shapes<Parts...>;
};

template <class T, class... Candidates>
concept one_of = (std::is_same_v<T, Candidates> || ...);

// Where layer LayerIndex's arrays start in the flat buffers: every layer
// owns its arrays in list order, fused or not.
template <std::size_t LayerIndex, class... Bound>
constexpr std::size_t parameter_offset(mp_list<Bound...>) {
    return ((Bound::index < LayerIndex ? Bound::param_count : 0) + ... + std::size_t{0});
}

// Where its state starts: the state arrays follow the same order.
template <std::size_t LayerIndex, class... Bound>
constexpr std::size_t state_offset(mp_list<Bound...>) {
    return ((Bound::index < LayerIndex ? Bound::state_count : 0) + ... + std::size_t{0});
}

// The group whose last layer is LayerIndex, or npos.
template <std::size_t LayerIndex, class... G>
constexpr std::size_t group_ending_at(mp_list<G...>) {
    constexpr std::array<std::size_t, sizeof...(G)> last{G::last::index...};
    for (std::size_t g = 0; g < last.size(); ++g)
        if (last[g] == LayerIndex) return g;
    return std::numeric_limits<std::size_t>::max();
}

// The index of the array called Name among a layer's own arrays, or npos.
template <class Arrays>
constexpr std::size_t array_named(const Arrays& arrays, std::string_view name) {
    for (std::size_t i = 0; i < arrays.size(); ++i)
        if (arrays[i].name == name) return i;
    return std::numeric_limits<std::size_t>::max();
}

// Host views of device memory: the memory itself where the host can read
// it, else a copy.
template <class Backend, class T, std::size_t Rank>
auto host_tensor(const Backend& backend, T* data, const std::array<std::size_t, Rank>& shape) {
    std::size_t size = 1;
    for (std::size_t extent : shape) size *= extent;
    if constexpr (Backend::host_memory) {
        return xt::adapt(data, size, xt::no_ownership(), shape);
    } else {
        xt::xtensor<float, Rank> copy(shape);
        backend.to_host(data, copy.data(), size);
        return copy;
    }
}

// w -> w^2, for the regularisers' penalty.
struct SquareOf {
    const float* values;
    CTNN_HOST_DEVICE double operator()(std::size_t i) const { return double(values[i]) * values[i]; }
};

template <class T>
concept complete = requires { sizeof(T); };

// The fusion rules for Backend, or none (the check below reports it).
template <class Backend>
struct rules_of {
    using type = mp_list<>;
};
template <class Backend>
    requires complete<fusion_rules_for<Backend>>
struct rules_of<Backend> {
    using type = typename fusion_rules_for<Backend>::type;
};

// The layer-by-layer engine that forward_keeping_outputs() runs, behind a
// base: a network that never inspects its layers then never builds one (a
// second engine costs compile time in every program).
struct KeptOutputs {
    virtual ~KeptOutputs() = default;
    virtual const float* output(std::size_t layer) const = 0;
};
template <class Engine>
struct LayerByLayer final : KeptOutputs {
    template <class Configs>
    explicit LayerByLayer(const Configs& configs) : engine(configs) {}
    const float* output(std::size_t layer) const override { return engine.output(layer); }
    Engine engine;
};

template <std::size_t... Dims>
constexpr std::array<std::size_t, sizeof...(Dims) + 1> batch_shape(std::size_t batch, Shape<Dims...>) {
    return {batch, Dims...};
}
// Several tensors per sample: each row as it is (core/shapes.hpp).
template <class... Parts>
constexpr std::array<std::size_t, 2> batch_shape(std::size_t batch, Shapes<Parts...>) {
    return {batch, Shapes<Parts...>::size};
}

} // namespace detail

template <class Backend, Fusion F, class First, class... Layers>
class Network {
    static_assert(is_input<First>,
                  "ctnn: a Sequential starts with ctnn::Input<dims...>, e.g. Sequential<Input<784>, "
                  "Dense<10>>, or with ctnn::Inputs<Shape<...>, Shape<...>> for several inputs");
    using device = typename detail::BackendCheck<Backend>::type;
    static_assert(detail::complete<fusion_rules_for<Backend>>,
                  "ctnn: include ctnn/layers/fusion_rules.hpp (ctnn/ctnn.hpp and ctnn/sequential.hpp "
                  "do): a network groups its layers by those rules");
    using rules = typename detail::rules_of<Backend>::type;
    using bound_layers = detail::bind_layers<typename detail::first_shape<First>::type, Layers...>;
    using groups = detail::group_layers<bound_layers, rules, F>;
    using configs = detail::ConfigList<First, Layers...>;
    // Every layer, those inside others included, depth-first: what
    // constructor arguments configure (core/config_list.hpp).
    using config_entries = detail::config_entries<First, Layers...>;
    using input = typename detail::first_shape<First>::type;
    using passes = detail::Passes<device, groups, input>;
    // The same layers one by one, sharing the buffers: run when a forward
    // call asks to keep every layer's output.
    using layer_by_layer = detail::Passes<
        device, detail::group_layers<bound_layers, rules, Fusion::unfused>, input>;

public:
    using backend_type = Backend;
    using input_shape = input;
    // Each layer bound to its place: BoundLayer<index, layer, input_shape>.
    using layers = bound_layers;
    using output_shape = typename boost::mp11::mp_back<
        boost::mp11::mp_push_front<bound_layers, detail::BoundInput<input_shape>>>::output_shape;
    // The last layer: a loss may fold into it (softmax with cross-entropy).
    using output_layer = boost::mp11::mp_back<boost::mp11::mp_list<First, Layers...>>;
    static constexpr std::size_t param_count = passes::param_count;
    static constexpr std::size_t state_count = passes::state_count;
    static constexpr std::size_t layer_count = sizeof...(Layers);
    static constexpr bool fused = F == Fusion::fused;
    // Run-time units: how many impls run, after fusion.
    static constexpr std::size_t pass_count = passes::count;

    // The same network without fusion (for tests) or on another backend.
    using unfused = Network<Backend, Fusion::unfused, First, Layers...>;
    template <class OtherBackend>
    using on = Network<OtherBackend, F, First, Layers...>;

    // Arguments configure layers by type: the n-th argument of type L goes to
    // the n-th layer of type L, counted depth-first (a layer inside a Shared
    // branch or a Residual body counts where it is declared); the others keep
    // their defaults. A Seed argument seeds the weight initialisation; a
    // Backend argument is the backend the network runs on.
    template <class... Args>
        requires((detail::one_of<Args, Seed, Backend> || detail::nth_of_type<Args, 0, config_entries>::found) && ...)
    explicit Network(const Args&... args)
        : backend_(choose_backend(args...)),
          configs_(configure(std::index_sequence_for<Args...>{}, args...)),
          passes_(configs_),
          variables_(list_variables()) {
        params_.resize(param_count);
        grads_.resize(param_count);
        state_.resize(state_count);
        initialize(select<Seed>(Seed{}, args...).value);
    }

    // A copy has its own buffers and workspaces, and no last forward pass.
    Network(const Network& other)
        : backend_(other.backend_),
          configs_(other.configs_),
          passes_(other.passes_),
          params_(other.params_),
          grads_(other.grads_),
          state_(other.state_),
          variables_(other.variables_) {}
    Network& operator=(const Network& other) {
        if (this != &other) {
            backend_ = other.backend_;
            configs_ = other.configs_;
            passes_ = other.passes_;
            params_ = other.params_;
            grads_ = other.grads_;
            state_ = other.state_;
            variables_ = other.variables_;
            layer_by_layer_.reset();
            kept_outputs_ = false;
            last_batch_ = 0;
            ++version_;
        }
        return *this;
    }

    const Backend& backend() const { return backend_; }

    // Draws fresh initial weights and resets the state (running statistics).
    void initialize(std::uint64_t seed) {
        Rng rng(seed);
        std::vector<float> params(param_count), state(state_count);
        for_each_array<bound_layers>([&](auto bound) -> const auto& { return config_of(bound); },
                                     [&](const ArrayPath&, const auto& array, std::size_t offset) {
            if constexpr (std::is_same_v<std::decay_t<decltype(array)>, ParameterArray>)
                ctnn::initialize(array.initializer,
                                 std::span<float>(params).subspan(offset, array.size()),
                                 array.fan_in(), array.fan_out(), rng);
            else
                std::fill_n(state.begin() + std::ptrdiff_t(offset), array.size(), array.initial);
        });
        backend_.to_device(params.data(), params_.data(), param_count);
        backend_.to_device(state.data(), state_.data(), state_count);
        ++version_;
    }

    // The flat buffers, in device memory: parameters, their gradients, and the
    // state (each BatchNorm's running mean, then variance). Taking a writable
    // view counts as a change, so that caches derived from them (a folded
    // BatchNorm) are rebuilt.
    std::span<float> parameters() {
        ++version_;
        return {params_.data(), param_count};
    }
    std::span<const float> parameters() const { return {params_.data(), param_count}; }
    std::span<float> gradients() { return {grads_.data(), param_count}; }
    std::span<const float> gradients() const { return {grads_.data(), param_count}; }
    std::span<float> state() {
        ++version_;
        return {state_.data(), state_count};
    }
    std::span<const float> state() const { return {state_.data(), state_count}; }
    // Counts those changes: what is derived from the weights (a folded
    // BatchNorm, a captured graph) is stale once it moves.
    std::uint64_t version() const { return version_; }

    // The flat buffers on the host and back: explicit copies that work on
    // every backend (parameters() and state() are device memory on a GPU).
    // A write checks the size and counts as a change, as parameters() does.
    std::vector<float> host_parameters() const { return to_host_vector(params_.data(), param_count); }
    std::vector<float> host_gradients() const { return to_host_vector(grads_.data(), param_count); }
    std::vector<float> host_state() const { return to_host_vector(state_.data(), state_count); }
    void set_parameters(std::span<const float> values) {
        from_host(values, params_.data(), param_count, "set_parameters");
    }
    void set_state(std::span<const float> values) {
        from_host(values, state_.data(), state_count, "set_state");
    }

    // The same network on another backend, with these parameters and this
    // state (copied through the host): auto gpu = net.to<ctnn::backend::Cuda>();
    // trained there, net = gpu.to<ctnn::backend::Cpu>() brings it back.
    // Optimizer slots belong to the optimizer and do not move.
    template <class OtherBackend>
    on<OtherBackend> to(const OtherBackend& backend = OtherBackend{}) const {
        on<OtherBackend> moved{backend};
        moved.configure_as(configs_);
        moved.set_parameters(host_parameters());
        moved.set_state(host_state());
        return moved;
    }

    // Every parameter array as a variable, in buffer order.
    std::span<const Variable> variables() const { return variables_; }
    // What an optimizer step updates.
    ParameterSet trainable() { return {parameters(), gradients(), variables_}; }

    // The layer descriptors as configured (hyper-parameters).
    template <std::size_t LayerIndex>
    const auto& layer() const {
        return detail::config_at<LayerIndex>(configs_);
    }

    // One layer's slice of parameters(), counted as layer<I>() counts (the
    // Input is 0), in its declared order.
    template <std::size_t LayerIndex>
    std::span<float> layer_parameters() {
        return parameters().subspan(layer_parameter_offset<LayerIndex>(),
                                    bound_layer<LayerIndex>::param_count);
    }
    template <std::size_t LayerIndex>
    std::span<const float> layer_parameters() const {
        return parameters().subspan(layer_parameter_offset<LayerIndex>(),
                                    bound_layer<LayerIndex>::param_count);
    }

    // One of a layer's parameter arrays by name, as an xtensor of its
    // declared shape: net.parameter<1, "kernel">() is (inputs, units) for a
    // Dense layer, (filters, channels, height, width) for a Conv2D. On a
    // host-memory backend it is a view of the parameters; elsewhere a copy.
    template <std::size_t LayerIndex, fixed_string Name>
    auto parameter() {
        ++version_;
        return parameter_view<LayerIndex, Name>(params_.data());
    }
    template <std::size_t LayerIndex, fixed_string Name>
    auto parameter() const {
        return parameter_view<LayerIndex, Name>(static_cast<const float*>(params_.data()));
    }

    // Layer LayerIndex's outputs for the samples of the last forward() call,
    // shaped (batch, output dims...), valid until the next call; a layer that
    // passes its input through returns that input. A layer that runs fused
    // with the ones after it keeps its output only after
    // forward_keeping_outputs().
    template <std::size_t LayerIndex>
    auto layer_output() const {
        static_assert(LayerIndex >= 1 && LayerIndex <= layer_count,
                      "ctnn: layer index out of range: layer 1 is the one after the Input");
        if (last_batch_ == 0)
            throw std::logic_error("ctnn: layer_output() needs a forward() call first");
        constexpr std::size_t group = detail::group_ending_at<LayerIndex>(groups{});
        const float* rows = nullptr;
        if (kept_outputs_)
            rows = layer_by_layer_->output(LayerIndex - 1);
        else if constexpr (group != std::numeric_limits<std::size_t>::max())
            rows = passes_.output(group);
        else
            throw std::logic_error(
                "ctnn: layer " + std::to_string(LayerIndex) +
                " runs fused with the layers after it, so forward() kept no output of its own; "
                "call forward_keeping_outputs() instead");
        return detail::host_tensor(
            backend_, rows,
            detail::batch_shape(last_batch_, typename bound_layer<LayerIndex>::output_shape{}));
    }

    // Sizes every workspace for batches up to max_batch. Forward calls do it on
    // demand; calling it first keeps later calls free of allocation.
    // A failed allocation throws ctnn::AllocationError naming the batch and
    // the memory; the network stays as it was.
    void reserve(std::size_t max_batch) { reserve_for("reserve", max_batch); }

    // Runs `batch` samples (rows of input_shape::size floats, in device
    // memory) through the network; returns the output rows, owned by the
    // network and valid until the next call.
    std::span<const float> forward(std::span<const float> inputs, std::size_t batch,
                                   Context context = {}) {
        check_batch(inputs, batch);
        reserve_for("forward", batch);
        context.stream = 0;
        const float* y = passes_.forward(whole_call(context, batch), inputs.data());
        kept_outputs_ = false;
        last_batch_ = batch;
        return {y, batch * output_shape::size};
    }

    // forward() with the layers run one by one over the same parameters, so
    // that layer_output() has every layer's output, also inside fused groups
    // (what plot::activations shows); backward() cannot follow it. A separate
    // call, so that programs that never inspect build no second engine.
    std::span<const float> forward_keeping_outputs(std::span<const float> inputs, std::size_t batch,
                                                   Context context = {}) {
        check_batch(inputs, batch);
        context.stream = 0;
        using engine = detail::LayerByLayer<layer_by_layer>;
        if (!layer_by_layer_) layer_by_layer_ = std::make_unique<engine>(configs_);
        const float* y =
            static_cast<engine&>(*layer_by_layer_).engine.forward(whole_call(context, batch), inputs.data());
        kept_outputs_ = true;
        last_batch_ = batch;
        return {y, batch * output_shape::size};
    }

    // Where the loss writes the gradient that backward() starts from; it
    // holds batch * output_shape::size floats and is overwritten by backward().
    float* output_gradient() { return passes_.output_gradient(); }

    // Back-propagates the gradient in output_gradient() through the layers of
    // the last forward() call, filling gradients().
    void backward(Context context, std::size_t batch,
                  OutputGradient given = OutputGradient::of_output) {
        backward_through(context, batch, given, nullptr);
    }

    // backward() that also returns d(loss)/d(inputs) for the samples of the
    // last forward() call: batch * input_shape::size floats in the backend's
    // memory, owned by the network and valid until the next call. What
    // saliency maps, adversarial examples and networks chained by hand start
    // from. The forward call must have been a training one (Mode::training),
    // as for backward().
    std::span<const float> backward_to_inputs(Context context, std::size_t batch,
                                              OutputGradient given = OutputGradient::of_output) {
        if (input_grads_.size() < batch * input_shape::size) input_grads_.resize(batch * input_shape::size);
        return {backward_through(context, batch, given, input_grads_.data()), batch * input_shape::size};
    }

    // Sum of the layers' regularisation losses, l2 * sum(w^2) over each
    // array that has a regulariser.
    float penalty() const {
        double total = 0.0;
        for (const Variable& v : variables_)
            if (v.l2 != 0.0f)
                total += double(v.l2) * backend_.transform_sum(v.size, detail::SquareOf{params_.data() + v.offset});
        return float(total);
    }
    // *total += weight * penalty(), on the device without waiting.
    void accumulate_penalty(double* total, double weight) const
        requires requires(const Backend& b) { b.accumulate_sum(0, detail::SquareOf{}, total, weight); }
    {
        for (const Variable& v : variables_)
            if (v.l2 != 0.0f)
                backend_.accumulate_sum(v.size, detail::SquareOf{params_.data() + v.offset}, total,
                                        weight * double(v.l2));
    }

private:
    const float* backward_through(Context context, std::size_t batch, OutputGradient given, float* input_gradient) {
        if (kept_outputs_)
            throw std::logic_error("ctnn: backward() follows forward_keeping_outputs(), which is "
                                   "for inspecting layers; run forward() first");
        if (batch != last_batch_)
            throw std::logic_error("ctnn: backward for a batch of " + std::to_string(batch) +
                                   " samples follows a forward pass of " +
                                   std::to_string(last_batch_));
        context.stream = 0;
        LayerCall<device> call = whole_call(context, batch);
        call.grads = grads_.data();
        call.folded_output = given == OutputGradient::of_folded_activation;
        const float* dx = passes_.backward(call, input_gradient);
        // The regularisers' gradients, 2 l2 w, once every layer's are in; a
        // process of a data-parallel batch adds its share of them.
        for (const Variable& v : variables_)
            if (v.l2 != 0.0f)
                backend_.axpy(v.size, 2.0f * v.l2 * context.batch_share, params_.data() + v.offset,
                              grads_.data() + v.offset);
        return dx;
    }

    template <class, Fusion, class, class...>
    friend class Network;
    // layers/branch_network.hpp: a branch's layers as a network, configured
    // as they are here.
    template <std::size_t, class Net>
    friend auto branch_network(const Net& net);

    template <std::size_t LayerIndex>
    using bound_layer = boost::mp11::mp_at_c<bound_layers, LayerIndex - 1>;

    // Takes these layer descriptors, and the impls and variables built from
    // them (a network made from another's layers: to(), branch_network).
    void configure_as(const configs& descriptors) {
        configs_ = descriptors;
        passes_ = passes(configs_);
        variables_ = list_variables();
    }

    void reserve_for(const char* caller, std::size_t batch) {
        try {
            passes_.reserve(backend_, batch);
        } catch (const std::bad_alloc& error) {
            throw AllocationError("ctnn: " + std::string(caller) + ": reserving the workspace for a batch of " +
                                  std::to_string(batch) + " samples on " + std::string(Backend::name) +
                                  " failed: " + error.what());
        }
    }

    std::vector<float> to_host_vector(const float* device, std::size_t n) const {
        std::vector<float> host(n);
        backend_.to_host(device, host.data(), n);
        return host;
    }
    void from_host(std::span<const float> values, float* device, std::size_t n, const char* caller) {
        if (values.size() != n)
            throw std::invalid_argument("ctnn: " + std::string(caller) + " got " +
                                        std::to_string(values.size()) + " values, but the network has " +
                                        std::to_string(n));
        backend_.to_device(values.data(), device, n);
        ++version_;
    }

    template <class Bound>
    const auto& config_of(Bound) const {
        return detail::config_at<Bound::index>(configs_);
    }

    void check_batch(std::span<const float> inputs, std::size_t batch) const {
        if constexpr (requires { backend_.holds(inputs.data()); })
            if (!backend_.holds(inputs.data()))
                throw std::invalid_argument(
                    "ctnn: forward: the inputs are not in the " + std::string(Backend::name) +
                    " backend's memory; copy them there with backend().to_device(), or call "
                    "ctnn::predict(net, inputs), which does");
        if (batch == 0 || inputs.size() != batch * input_shape::size)
            throw std::invalid_argument(
                "ctnn: forward got " + std::to_string(inputs.size()) + " values for " +
                std::to_string(batch) + " samples, but the network's input is " +
                to_string(input_shape{}) + " (" + std::to_string(input_shape::size) +
                " values per sample)");
    }

    LayerCall<device> whole_call(const Context& context, std::size_t batch) {
        LayerCall<device> call{backend_, context, batch};
        call.params = params_.data();
        call.state = state_.data();
        call.version = version_;
        return call;
    }

    std::vector<Variable> list_variables() const {
        std::vector<Variable> list;
        const std::size_t width = std::max<std::size_t>(2, std::to_string(layer_count).size());
        for_each_array<bound_layers>([&](auto bound) -> const auto& { return config_of(bound); },
                                     [&](const ArrayPath& path, const auto& array, std::size_t offset) {
            if constexpr (std::is_same_v<std::decay_t<decltype(array)>, ParameterArray>) {
                std::string name;
                for (std::size_t d = 0; d < path.depth; ++d)
                    name += layer_name(path.steps[d].index, path.steps[d].type, d == 0 ? width : 1) + "/";
                list.push_back({name + std::string(array.name), array.name, offset, array.size(), array.l2});
            }
        });
        return list;
    }

    template <std::size_t LayerIndex>
    static constexpr std::size_t layer_parameter_offset() {
        static_assert(LayerIndex >= 1 && LayerIndex <= layer_count,
                      "ctnn: layer index out of range: layer 1 is the one after the Input");
        return detail::parameter_offset<LayerIndex>(bound_layers{});
    }

    template <std::size_t LayerIndex, fixed_string Name, class T>
    auto parameter_view(T* params) const {
        static_assert(LayerIndex >= 1 && LayerIndex <= layer_count,
                      "ctnn: layer index out of range: layer 1 is the one after the Input");
        using B = bound_layer<LayerIndex>;
        constexpr auto arrays = default_arrays<ParameterArray, typename B::layer, typename B::input_shape>;
        constexpr std::size_t index = detail::array_named(arrays, Name.view());
        static_assert(index != std::numeric_limits<std::size_t>::max(),
                      "ctnn: the layer declares no parameter array of that name (see its "
                      "parameters())");
        if constexpr (index != std::numeric_limits<std::size_t>::max()) {
            constexpr ParameterArray array = arrays[index];
            constexpr std::size_t start = [&] {
                std::size_t at = layer_parameter_offset<LayerIndex>() +
                                 detail::sublayer_counts<typename B::layer, typename B::input_shape>::params;
                for (std::size_t i = 0; i != index; ++i) at += arrays[i].size();  // not <: nvcc flags i < 0
                return at;
            }();
            std::array<std::size_t, array.shape.rank> shape{};
            for (std::size_t i = 0; i < shape.size(); ++i) shape[i] = array.shape.extent[i];
            return detail::host_tensor(backend_, params + start, shape);
        }
    }

    template <class... Args, std::size_t... A>
    static configs configure(std::index_sequence<A...>, const Args&... args) {
        configs result;
        (assign<A, Args...>(result, args), ...);
        return result;
    }

    // The K-th constructor argument goes to the layer it configures.
    template <std::size_t K, class... Args>
    static void assign(configs& result, const boost::mp11::mp_at_c<boost::mp11::mp_list<Args...>, K>& arg) {
        using type = boost::mp11::mp_at_c<boost::mp11::mp_list<Args...>, K>;
        if constexpr (!std::is_same_v<type, Seed> && !std::is_same_v<type, Backend>) {
            constexpr std::size_t earlier =
                boost::mp11::mp_count<boost::mp11::mp_take_c<boost::mp11::mp_list<Args...>, K>, type>::value;
            using place = detail::nth_of_type<type, earlier, config_entries>;
            static_assert(place::found, "ctnn: more constructor arguments of a layer type than layers of that "
                                        "type in the network");
            if constexpr (place::found)
                detail::assign_at(result, typename boost::mp11::mp_at_c<config_entries, place::index>::path{}, arg);
        }
    }

    template <class... Args>
    static device choose_backend(const Args&... args) {
        if constexpr (std::is_same_v<device, Backend>)
            return select<Backend>(Backend{}, args...);
        else
            return device{};
    }

    // The last argument of type T, or `fallback`.
    template <class T, class... Args>
    static T select(T fallback, const Args&... args) {
        ((fallback = pick<T>(args, fallback)), ...);
        return fallback;
    }
    template <class T, class Arg>
    static T pick(const Arg& arg, const T& current) {
        if constexpr (std::is_same_v<Arg, T>)
            return arg;
        else
            return current;
    }

    device backend_;
    configs configs_;
    passes passes_;
    typename device::template buffer<float> params_;
    typename device::template buffer<float> grads_;
    typename device::template buffer<float> state_;
    typename device::template buffer<float> input_grads_;  // sized by the first backward_to_inputs()
    std::vector<Variable> variables_;
    std::unique_ptr<detail::KeptOutputs> layer_by_layer_;
    bool kept_outputs_ = false;  // the last forward ran layer by layer
    std::uint64_t version_ = 0;
    std::size_t last_batch_ = 0;
};

} // namespace ctnn
