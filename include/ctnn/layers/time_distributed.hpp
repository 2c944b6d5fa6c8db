// TimeDistributed<Layer>: Layer applied to every step of a sequence
// Shape<T, rest...>, with one set of weights. Steps are contiguous rows, so
// the inner layer simply runs on batch * T samples of Shape<rest...>:
// TimeDistributed<Dense<C>> is one GEMM over all steps, and a producer like
// it in a fused group (an activation, or a Softmax per step, in its epilogue).
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

namespace detail {

// A sequence shape split into its steps and the shape of one step; a rank-1
// shape (an error TimeDistributed reports) reads as one step of itself.
template <class Shape>
struct StepSplit;
template <std::size_t First, std::size_t... Rest>
struct StepSplit<Shape<First, Rest...>> {
    static constexpr std::size_t steps = sizeof...(Rest) > 0 ? First : 1;
    using step = std::conditional_t<(sizeof...(Rest) > 0), Shape<Rest...>, Shape<First>>;
};

template <std::size_t Steps, class StepShape>
struct prepend_steps;
template <std::size_t Steps, std::size_t... Dims>
struct prepend_steps<Steps, Shape<Dims...>> {
    using type = Shape<Steps, Dims...>;
};

// A producer stays one inside TimeDistributed; other roles do not carry over.
template <class Layer>
using distributed_role = std::conditional_t<std::is_base_of_v<fusion::producer, fusion::role_of<Layer>>,
                                            fusion::role_of<Layer>, fusion::none>;

// The inner impl's plane layout when it is a producer.
template <class Impl>
struct layout_of {
    using type = void;
};
template <class Impl>
    requires requires { typename Impl::layout; }
struct layout_of<Impl> {
    using type = typename Impl::layout;
};

} // namespace detail

template <class Inner, std::size_t Steps, class Backend>
class TimeDistributedImpl;

template <class Layer>
struct TimeDistributed {
    Layer layer{};  // the inner layer's configuration

    static constexpr std::string_view type_name = "TimeDistributed";
    using fusion_role = detail::distributed_role<Layer>;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(InputShape::rank >= 2,
                      "ctnn: TimeDistributed needs a sequence input Shape<steps, features...>; "
                      "use the inner layer alone on a single sample");
        using split = detail::StepSplit<InputShape>;
        using step_output = decltype(Layer::template output_shape<LayerIndex, typename split::step>());
        return typename detail::prepend_steps<split::steps, step_output>::type{};
    }
    // The inner layer's arrays, shared by every step.
    template <class InputShape>
    constexpr auto parameters() const {
        return parameter_arrays<typename detail::StepSplit<InputShape>::step>(layer);
    }
    template <class InputShape>
    constexpr auto state() const {
        return state_arrays<typename detail::StepSplit<InputShape>::step>(layer);
    }
    template <class InputShape, class Backend>
    using impl = TimeDistributedImpl<
        typename Layer::template impl<typename detail::StepSplit<InputShape>::step, Backend>,
        detail::StepSplit<InputShape>::steps, Backend>;
};

// The inner impl, run on batch * Steps samples.
template <class Inner, std::size_t Steps, class Backend>
class TimeDistributedImpl {
public:
    template <class Layer>
    explicit TimeDistributedImpl(const TimeDistributed<Layer>& config) : inner_(config.layer) {}

    void reserve(const Backend& backend, std::size_t max_batch) {
        if constexpr (requires { inner_.reserve(backend, max_batch); }) inner_.reserve(backend, max_batch * Steps);
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        return inner_.forward(steps(call), x, y);
    }
    float* backward(const LayerCall<Backend>& call, const float* x, const float* y, float* dy, float* dx) {
        return inner_.backward(steps(call), x, y, dy, dx);
    }

    // A producer's parts, over the steps.
    using layout = typename detail::layout_of<Inner>::type;
    auto bias_stage(const LayerCall<Backend>& call) const { return inner_.bias_stage(steps(call)); }
    template <class Sink>
    void produce(const LayerCall<Backend>& call, const float* x, float* y, const Sink& sink) {
        inner_.produce(steps(call), x, y, sink);
    }
    template <class Sink>
    float* produce_backward(const LayerCall<Backend>& call, const float* x, const float* y, float* dy,
                            float* dx, const Sink& sink) {
        return inner_.produce_backward(steps(call), x, y, dy, dx, sink);
    }

private:
    static LayerCall<Backend> steps(const LayerCall<Backend>& call) { return call.rows_per_sample(Steps); }

    Inner inner_;
};

} // namespace ctnn
