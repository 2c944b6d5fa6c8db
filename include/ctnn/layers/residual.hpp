// Residual<Body...>: y = body(x) + shortcut(x), the block ResNets are built
// from. The body is itself a layer list (fused like a network's). The shortcut
// is chosen from the shapes at compile time: the identity when the body keeps
// its input's shape, else a 1x1 convolution ("projection") with the stride
// that maps the input's image size onto the body's output.
//
//   Residual<Conv2D<64, 3, 1, same>, BatchNorm, ReLU, Conv2D<64, 3, 1, same>, BatchNorm>
//   Residual<Conv2D<128, 3, 2, same>, BatchNorm, ReLU, Conv2D<128, 3, 1, same>, BatchNorm>
//
// Parameters: the body's, then the projection's kernel and bias if there is one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/bind.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/passes.hpp"
#include "ctnn/layers/conv2d.hpp"
#include "ctnn/layers/input.hpp"

namespace ctnn {

namespace detail {

template <class InputShape, class... Body>
struct ResidualGeometry {
    using bound = mp_fold<mp_list<Body...>, mp_list<BoundInput<InputShape>>, bind_next>;
    using body_output = typename mp_back<bound>::output_shape;
    static constexpr bool identity = std::is_same_v<body_output, InputShape>;
    static constexpr bool images = InputShape::rank == 3 && body_output::rank == 3;
    // The stride a "same" convolution would need to go from the input's
    // height to the body's; checked below for both axes.
    static constexpr std::size_t stride =
        images ? (InputShape::dims[1] + body_output::dims[1] - 1) /
                     std::max<std::size_t>(body_output::dims[1], 1)
               : 1;
    // A 1x1 convolution with this stride gives ceil(H / stride) rows.
    static constexpr bool projectable =
        images && stride > 0 && (InputShape::dims[1] + stride - 1) / stride == body_output::dims[1] &&
        (InputShape::dims[2] + stride - 1) / stride == body_output::dims[2];
    using projection = Conv2D<images ? body_output::dims[0] : 1, 1, stride>;
};

} // namespace detail

template <class InputShape, class Backend, class... Body>
class ResidualImpl;

template <class... Body>
struct Residual {
    static constexpr std::string_view type_name = "Residual";

    // The body's layers, as configured (defaults unless set through
    // detail::config_at<I>(body)).
    detail::ConfigList<Body...> body;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(sizeof...(Body) > 0, "ctnn: Residual needs at least one layer in its body");
        using G = detail::ResidualGeometry<InputShape, Body...>;
        static_assert(G::identity || G::projectable,
                      "ctnn: Residual's body changes its input's shape in a way no shortcut can "
                      "follow: keep the shape, or change channels and shrink the image by an "
                      "integer stride");
        return typename G::body_output{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = [] {
        using G = detail::ResidualGeometry<InputShape, Body...>;
        std::size_t body = 0;
        boost::mp11::mp_for_each<boost::mp11::mp_pop_front<typename G::bound>>(
            [&](auto bound) { body += decltype(bound)::param_count; });
        if constexpr (G::identity)
            return body;
        else
            return body + G::projection::template param_count<InputShape>;
    }();
    template <class InputShape, class Backend>
    using impl = ResidualImpl<InputShape, Backend, Body...>;
};

template <class InputShape, class Backend, class... Body>
class ResidualImpl {
    using geometry = detail::ResidualGeometry<InputShape, Body...>;
    using output_shape = typename geometry::body_output;
    using body_groups = detail::group_layers<boost::mp11::mp_pop_front<typename geometry::bound>, true>;
    using body_passes = detail::Passes<Backend, body_groups, InputShape>;
    static constexpr bool projects = !geometry::identity;
    // Only a block that projects has (and instantiates) the convolution.
    struct NoProjection {
        static constexpr std::size_t param_count = 0;
        explicit NoProjection(const auto&) {}
    };
    using projection =
        std::conditional_t<projects, typename geometry::projection::template impl<InputShape, Backend>,
                           NoProjection>;
    static constexpr std::size_t body_params = body_passes::param_count;

public:
    static constexpr std::size_t param_count = body_params + projection::param_count;

    explicit ResidualImpl(const Residual<Body...>& config)
        : body_(detail::behind<Input<1>>(config.body)),
          projection_(typename geometry::projection{}) {}

    void initialize(float* params, Rng& rng) {
        body_.initialize(params, rng);
        if constexpr (projects) projection_.initialize(params + body_params, rng);
    }

    void reserve(std::size_t max_batch) {
        body_.reserve(max_batch);
        if constexpr (projects) {
            projection_.reserve(max_batch);
            shortcut_.resize(max_batch * output_shape::size);
            shortcut_gradient_.resize(max_batch * InputShape::size);
        }
        body_gradient_.resize(max_batch * InputShape::size);
    }

    const float* forward(const Context& context, const float* params, const float* x, float* y,
                         std::size_t batch) {
        reserve(batch);
        Context inner = context;
        inner.layer = context.layer + 1;  // the body's streams differ from the outer layers'
        const float* body = body_.forward(inner, params, x, batch);
        const float* shortcut = x;
        if constexpr (projects)
            shortcut = projection_.forward(context, params + body_params, x, shortcut_.data(), batch);
        parallel_for(batch * output_shape::size, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) y[i] = body[i] + shortcut[i];
        });
        return y;
    }

    float* backward(const Context& context, const float* params, float* grads, const float* x,
                    const float*, float* dy, float* dx, std::size_t batch) {
        const std::size_t n_out = batch * output_shape::size;
        std::copy_n(dy, n_out, body_.output_gradient());
        Context inner = context;
        inner.layer = context.layer + 1;
        const float* body_dx =
            body_.backward(inner, params, grads, dx ? body_gradient_.data() : nullptr, batch);
        const float* shortcut_dx = dy;
        if constexpr (projects)
            shortcut_dx = projection_.backward(context, params + body_params, grads + body_params,
                                               x, shortcut_.data(), dy,
                                               dx ? shortcut_gradient_.data() : nullptr, batch);
        if (!dx) return nullptr;
        parallel_for(batch * InputShape::size, parallel_grain, [=](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) dx[i] = body_dx[i] + shortcut_dx[i];
        });
        return dx;
    }

    template <class F>
    void for_each_state(F&& f) {
        body_.for_each_state(f);
    }
    template <class F>
    void for_each_state(F&& f) const {
        body_.for_each_state(f);
    }

    float penalty(const float* params) const {
        float total = body_.penalty(params);
        if constexpr (projects) total += projection_.penalty(params + body_params);
        return total;
    }

private:
    body_passes body_;
    projection projection_;
    typename Backend::template buffer<float> shortcut_;
    typename Backend::template buffer<float> body_gradient_;
    typename Backend::template buffer<float> shortcut_gradient_;
};

} // namespace ctnn
