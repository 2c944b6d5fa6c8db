// A layer list on its own, for tests that drive layers directly: the pass
// engine over Layers bound to InputShape, with its own parameters, gradients
// and state, and the input gradient a Network does not expose. Tests read and
// write host copies of them; forward() and backward() move them to and from
// the backend's memory, so the same test runs on a device backend.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <ctnn/core/bind.hpp>
#include <ctnn/core/config_list.hpp>
#include <ctnn/core/fusion.hpp>
#include <ctnn/core/network.hpp>
#include <ctnn/core/passes.hpp>
#include <ctnn/core/random.hpp>
#include <ctnn/core/walk.hpp>
#include <ctnn/layers/fusion_rules.hpp>
#include <ctnn/core/input.hpp>

namespace ctnn::testing {

template <class Backend, class InputShape, Fusion F, class... Layers>
class LayerStack {
    using bound = detail::bind_layers<InputShape, Layers...>;
    using groups = detail::group_layers<bound, typename fusion_rules_for<Backend>::type, F>;
    using passes = detail::Passes<Backend, groups, InputShape>;
    using configs = detail::ConfigList<Input<1>, Layers...>;

public:
    using input_shape = InputShape;
    using output_shape = typename boost::mp11::mp_back<bound>::output_shape;
    static constexpr std::size_t param_count = passes::param_count;
    static constexpr std::size_t state_count = passes::state_count;
    static constexpr std::size_t pass_count = passes::count;

    // The layers as configured; parameters zero, state as declared.
    explicit LayerStack(const Layers&... layers) : configs_(configure(layers...)), passes_(configs_) {
        // Never empty, so that data() is a real pointer.
        params_.resize(param_count + 1);
        grads_.resize(param_count + 1);
        state_.resize(state_count + 1);
        host_params_.assign(param_count + 1, 0.0f);
        host_grads_.assign(param_count + 1, 0.0f);
        host_state_.assign(state_count + 1, 0.0f);
        reset_state();
    }

    // The declared initialisers, drawn as a network draws them.
    void initialize(std::uint64_t seed) {
        Rng rng(seed);
        visit_arrays([&](const auto& array, std::size_t offset) {
            if constexpr (std::is_same_v<std::decay_t<decltype(array)>, ParameterArray>)
                ctnn::initialize(array.initializer, params().subspan(offset, array.size()),
                                 array.fan_in(), array.fan_out(), rng);
        });
        reset_state();
    }

    void reset_state() {
        visit_arrays([&](const auto& array, std::size_t offset) {
            if constexpr (std::is_same_v<std::decay_t<decltype(array)>, StateArray>)
                std::fill_n(state().begin() + std::ptrdiff_t(offset), array.size(), array.initial);
        });
    }

    // Host copies: params() and state() go to the backend at every forward(),
    // state() and grads() come back after forward() and backward().
    std::span<float> params() { return {host_params_.data(), param_count}; }
    std::span<const float> grads() const { return {host_grads_.data(), param_count}; }
    std::span<float> state() { return {host_state_.data(), state_count}; }
    const Backend& backend() const { return backend_; }

    // Changes what the layers may have cached from parameters and state.
    void touch() { ++version_; }

    std::span<const float> forward(std::span<const float> x, std::size_t batch, Context context = {}) {
        REQUIRE(x.size() == batch * InputShape::size);
        backend_.to_device(host_params_.data(), params_.data(), host_params_.size());
        backend_.to_device(host_state_.data(), state_.data(), host_state_.size());
        // On host memory the input and output are used in place, so that
        // tests can see a layer pass its input on.
        if constexpr (Backend::host_memory) {
            const float* y = passes_.forward(call(context, batch), x.data());
            backend_.to_host(state_.data(), host_state_.data(), host_state_.size());
            return {y, batch * output_shape::size};
        } else {
            x_.resize(x.size());
            backend_.to_device(x.data(), x_.data(), x.size());
            const float* y = passes_.forward(call(context, batch), x_.data());
            y_.resize(batch * output_shape::size);
            backend_.to_host(y, y_.data(), y_.size());
            backend_.to_host(state_.data(), host_state_.data(), host_state_.size());
            return y_;
        }
    }

    // Gradients for d(loss)/d(output) = dy after forward(); returns the
    // input gradient, or nothing when `input_gradient` is false.
    std::span<const float> backward(std::span<const float> dy, std::size_t batch, Context context = {},
                                    bool input_gradient = true,
                                    OutputGradient given = OutputGradient::of_output) {
        REQUIRE(dy.size() == batch * output_shape::size);
        backend_.to_device(dy.data(), passes_.output_gradient(), dy.size());
        dx_.resize(batch * InputShape::size);
        LayerCall<Backend> whole = call(context, batch);
        whole.grads = grads_.data();
        whole.folded_output = given == OutputGradient::of_folded_activation;
        const float* dx = passes_.backward(whole, input_gradient ? dx_.data() : nullptr);
        backend_.to_host(grads_.data(), host_grads_.data(), host_grads_.size());
        if (!input_gradient) return {};
        host_dx_.resize(dx_.size());
        backend_.to_host(dx, host_dx_.data(), host_dx_.size());
        return host_dx_;
    }

private:
    static configs configure(const Layers&... layers) {
        configs result;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((detail::config_at<I + 1>(result) = layers), ...);
        }(std::index_sequence_for<Layers...>{});
        return result;
    }

    template <class F2>
    void visit_arrays(F2&& f) {
        for_each_array<bound>([&](auto b) -> const auto& { return detail::config_at<decltype(b)::index>(configs_); },
                              [&](const ArrayPath&, const auto& array, std::size_t offset) { f(array, offset); });
    }

    LayerCall<Backend> call(Context context, std::size_t batch) {
        context.stream = 0;
        LayerCall<Backend> whole{backend_, context, batch};
        whole.params = params_.data();
        whole.state = state_.data();
        whole.version = version_;
        return whole;
    }

    Backend backend_;
    configs configs_;
    passes passes_;
    typename Backend::template buffer<float> params_, grads_, state_, x_, dx_;
    std::vector<float> host_params_, host_grads_, host_state_, y_, host_dx_;
    std::uint64_t version_ = 1;
};

// Random values in [-1, 1] with |v| >= margin.
inline std::vector<float> random_values(std::size_t n, Rng& rng, float margin = 0.0f) {
    std::vector<float> v(n);
    for (float& x : v) {
        x = rng.uniform(-1.0f, 1.0f);
        if (std::fabs(x) < margin) x = x < 0 ? -margin : margin;
    }
    return v;
}

struct GradientCheck {
    std::size_t batch = 3;
    Context context{Mode::training, 11, 5, 1};
    float step = 1e-2f;          // central-difference step
    float tolerance = 2e-3f;     // allowed |analytic - numeric| / max(1, |numeric|)
    float input_margin = 0.05f;  // inputs are kept this far from 0 (ReLU's kink)
    std::uint64_t seed = 7;
};

// Checks d(sum(y * r))/d(parameters) and /d(x) of the layers, fused as a
// network would fuse them, against central differences, with random
// parameters, inputs and r.
template <class Backend, class InputShape, class... Layers>
void check_gradients(const GradientCheck& options, const Layers&... layers) {
    using Stack = LayerStack<Backend, InputShape, Fusion::fused, Layers...>;
    Stack stack(layers...);
    const std::size_t batch = options.batch;
    const std::size_t outputs = batch * Stack::output_shape::size;
    Rng rng(options.seed);
    std::vector<float> params = random_values(Stack::param_count, rng);
    std::copy(params.begin(), params.end(), stack.params().begin());
    std::vector<float> x = random_values(batch * InputShape::size, rng, options.input_margin);
    const std::vector<float> r = random_values(outputs, rng);

    auto loss = [&] {
        stack.touch();
        const auto y = stack.forward(x, batch, options.context);
        double total = 0.0;
        for (std::size_t i = 0; i < r.size(); ++i) total += double(y[i]) * r[i];
        return total;
    };
    auto numeric = [&](float& value) {
        const float saved = value;
        value = saved + options.step;
        const double up = loss();
        value = saved - options.step;
        const double down = loss();
        value = saved;
        return (up - down) / (2.0 * double(options.step));
    };
    auto agree = [&](double analytic, double estimate) {
        return std::fabs(analytic - estimate) <= options.tolerance * std::max(1.0, std::fabs(estimate));
    };

    loss();
    const auto dx = stack.backward(r, batch, options.context);
    const std::vector<float> analytic_dx(dx.begin(), dx.end());
    const std::vector<float> analytic_dp(stack.grads().begin(), stack.grads().end());
    for (std::size_t i = 0; i < Stack::param_count; ++i) {
        const double estimate = numeric(stack.params()[i]);
        INFO("parameter ", i, ": analytic ", analytic_dp[i], ", numeric ", estimate);
        CHECK(agree(analytic_dp[i], estimate));
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double estimate = numeric(x[i]);
        INFO("input ", i, ": analytic ", analytic_dx[i], ", numeric ", estimate);
        CHECK(agree(analytic_dx[i], estimate));
    }
}

} // namespace ctnn::testing
