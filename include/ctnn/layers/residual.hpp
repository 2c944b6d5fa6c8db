// Residual<Body...>: y = body(x) + shortcut(x), the block ResNets are built
// from. The body is itself a layer list (fused like a network's). The shortcut
// is chosen from the shapes at compile time: the identity when the body keeps
// its input's shape, else a 1x1 convolution ("projection") with the stride
// that maps the input's image size onto the body's output, which adds the
// body's output in its epilogue.
//
//   Residual<Conv2D<64, 3, 1, same>, BatchNorm, ReLU, Conv2D<64, 3, 1, same>, BatchNorm>
//   Residual<Conv2D<128, 3, 2, same>, BatchNorm, ReLU, Conv2D<128, 3, 1, same>, BatchNorm>
//
// Arrays: the body's layers' (its sublayers), then the projection's kernel
// and bias as shortcut_kernel and shortcut_bias, if there is one.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/bind.hpp"
#include "ctnn/core/config.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/passes.hpp"
#include "ctnn/layers/branch.hpp"
#include "ctnn/layers/conv2d.hpp"
#include "ctnn/layers/fusion_rules.hpp"
#include "ctnn/core/input.hpp"

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

// The sink of a projection: the shortcut plus the body's output.
template <class Layout, class Stages>
struct AddTo {
    static constexpr std::size_t in_length = Layout::length;
    static constexpr std::size_t out_length = Layout::length;
    Stages stages;
    const float* other;
    bool folded = false;

    CTNN_HOST_DEVICE void forward(const float* z, std::size_t plane, float* y) const {
        const std::size_t base = plane * in_length;
        for (std::size_t j = 0; j < in_length; ++j)
            y[base + j] = stages.forward(z[j], Layout::channel(plane, j), base + j) + other[base + j];
    }
    CTNN_HOST_DEVICE void backward(const float* dy, const float*, std::size_t plane, float* dz) const {
        const std::size_t base = plane * in_length;
        for (std::size_t j = 0; j < in_length; ++j)
            dz[j] = stages.backward(dy[base + j], 0.0f, Layout::channel(plane, j), base + j);
    }
};

struct Sum {
    const float* a;
    const float* b;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = a[i] + b[i]; }
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
    using sublayers = boost::mp11::mp_pop_front<typename detail::ResidualGeometry<InputShape, Body...>::bound>;
    template <class InputShape>
    constexpr auto parameters() const {
        using G = detail::ResidualGeometry<InputShape, Body...>;
        if constexpr (G::identity) {
            return std::array<ParameterArray, 0>{};
        } else {
            auto arrays = typename G::projection{}.template parameters<InputShape>();
            arrays[0].name = "shortcut_kernel";
            arrays[1].name = "shortcut_bias";
            return arrays;
        }
    }
    template <class InputShape, class Backend>
    using impl = ResidualImpl<InputShape, Backend, Body...>;
};

template <class InputShape, class Backend, class... Body>
class ResidualImpl {
    using geometry = detail::ResidualGeometry<InputShape, Body...>;
    using output_shape = typename geometry::body_output;
    using body_passes = detail::body_passes<Backend, InputShape, Body...>;
    static constexpr bool projects = !geometry::identity;
    // Only a block that projects has (and instantiates) the convolution.
    struct NoProjection {
        explicit NoProjection(const auto&) {}
    };
    using projection =
        std::conditional_t<projects, typename geometry::projection::template impl<InputShape, Backend>,
                           NoProjection>;
    static constexpr std::size_t body_params = body_passes::param_count;
    static constexpr std::size_t body_state = body_passes::state_count;

public:
    explicit ResidualImpl(const Residual<Body...>& config)
        : body_(config.body), projection_(typename geometry::projection{}) {}

    void reserve(const Backend& backend, std::size_t max_batch) {
        body_.reserve(backend, max_batch);
        body_gradient_.resize(max_batch * InputShape::size);
        if constexpr (projects) shortcut_gradient_.resize(max_batch * InputShape::size);
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const float* body = body_.forward(call, x);
        if constexpr (projects) {
            projection_.produce(shortcut(call), x, y, sum_sink(call, body));
        } else {
            call.backend.for_each(call.batch * output_shape::size, detail::Sum{body, x, y});
        }
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float* x, const float* y, float* dy, float* dx) {
        const float* body_dx = body_.backward(call, dy, dx ? body_gradient_.data() : nullptr);
        const float* shortcut_dx = dy;
        if constexpr (projects)
            shortcut_dx = projection_.produce_backward(shortcut(call), x, y, dy,
                                                       dx ? shortcut_gradient_.data() : nullptr,
                                                       sum_sink(call, nullptr));
        if (!dx) return nullptr;
        call.backend.for_each(call.batch * InputShape::size, detail::Sum{body_dx, shortcut_dx, dx});
        return dx;
    }

private:
    static LayerCall<Backend> shortcut(const LayerCall<Backend>& call) {
        return call.part(body_params, body_state);
    }
    auto sum_sink(const LayerCall<Backend>& call, const float* body) const {
        const auto stages = epilogue::chain(projection_.bias_stage(shortcut(call)));
        return detail::AddTo<typename projection::layout, std::decay_t<decltype(stages)>>{stages, body};
    }

    detail::BodyRunner<InputShape, Backend, Body...> body_;
    projection projection_;
    typename Backend::template buffer<float> body_gradient_;
    typename Backend::template buffer<float> shortcut_gradient_;
};

} // namespace ctnn
