// TimeDistributed<Layer>: Layer applied to every step of a sequence
// Shape<T, rest...>, with one set of weights. Steps are contiguous rows, so
// the inner layer simply runs on batch * T samples of Shape<rest...>:
// TimeDistributed<Dense<C>> is one GEMM over all steps. A following
// element-wise activation fuses into it as into the inner layer; a following
// Softmax works per step (it normalises the last axis), and at a network's
// output folds into cross-entropy as usual.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/random.hpp"

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

// The inner layer's impl, with the fused activation when there is one (a
// pack cannot expand into the inner alias's fixed parameter list).
template <class Layer, class StepShape, class Backend, class... Activation>
struct inner_impl {
    using type = typename Layer::template impl<StepShape, Backend>;
};
template <class Layer, class StepShape, class Backend, class Activation>
struct inner_impl<Layer, StepShape, Backend, Activation> {
    using type = typename Layer::template impl<StepShape, Backend, Activation>;
};

} // namespace detail

template <class Inner, std::size_t Steps>
class TimeDistributedImpl;

template <class Layer>
struct TimeDistributed {
    Layer layer{};  // the inner layer's configuration

    static constexpr std::string_view type_name = "TimeDistributed";
    static constexpr bool fuses_activation = FusesActivation<Layer>;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(InputShape::rank >= 2,
                      "ctnn: TimeDistributed needs a sequence input Shape<steps, features...>; "
                      "use the inner layer alone on a single sample");
        using split = detail::StepSplit<InputShape>;
        using step_output =
            decltype(Layer::template output_shape<LayerIndex, typename split::step>());
        return typename detail::prepend_steps<split::steps, step_output>::type{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count =
        Layer::template param_count<typename detail::StepSplit<InputShape>::step>;
    template <class InputShape, class Backend, class... Activation>
    using impl = TimeDistributedImpl<
        typename detail::inner_impl<Layer, typename detail::StepSplit<InputShape>::step, Backend,
                                    Activation...>::type,
        detail::StepSplit<InputShape>::steps>;
};

// The inner impl, run on batch * Steps samples.
template <class Inner, std::size_t Steps>
class TimeDistributedImpl {
public:
    static constexpr std::size_t param_count = Inner::param_count;

    template <class Layer, class... Activation>
    explicit TimeDistributedImpl(const TimeDistributed<Layer>& config, Activation... activation)
        : inner_(config.layer, activation...) {}

    void initialize(float* params, Rng& rng) { inner_.initialize(params, rng); }
    void reserve(std::size_t max_batch) { inner_.reserve(max_batch * Steps); }

    const float* forward(const Context& context, const float* params, const float* x, float* y,
                         std::size_t batch) {
        return inner_.forward(context, params, x, y, batch * Steps);
    }
    float* backward(const Context& context, const float* params, float* grads, const float* x,
                    const float* y, float* dy, float* dx, std::size_t batch) {
        return inner_.backward(context, params, grads, x, y, dy, dx, batch * Steps);
    }
    float penalty(const float* params) const { return inner_.penalty(params); }

private:
    Inner inner_;
};

} // namespace ctnn
