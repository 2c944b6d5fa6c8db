// Fusion as a rewrite of the layer list: consecutive layers that can run as
// one pass form a group, and a group runs as one impl (core/fused_group.hpp).
//
// A layer takes part through its role, `using fusion_role = ...`:
//   fusion::rows, fusion::planes  a producer: it runs with an epilogue (a
//                                 Dense layer's output rows, a Conv2D's planes)
//   fusion::normalization         a per-channel affine map at inference (BatchNorm)
//   fusion::activation            element-wise, derivative from its output (ReLU)
//   fusion::pooling               a sink reducing windows of planes (MaxPool2D)
//   fusion::distribution          a sink normalising rows (Softmax)
//   fusion::repetition, recurrence  a pair with an impl of its own: a
//                                 recurrent layer after RepeatVector reads the
//                                 vector once instead of every step
//                                 (core/passes.hpp's group_impl)
// and the rules that say which role may join which group are a type list
// beside the layers (layers/fusion_rules.hpp), which the grouping folds over.
// A role derives from what its layers contribute to a group: a producer
// opens it, a stage adds to its epilogue, a sink ends it. A new fusion is a
// rule there and the roles of the layers involved (a new role derives from
// one of the three).
//
// A network on Backend groups by fusion_rules_for<Backend>::type, defined
// there too; a backend may specialise it, to fuse what it has kernels for.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <type_traits>

#include "ctnn/core/layer.hpp"

namespace ctnn {

// Whether a network runs its layers grouped by the fusion rules.
enum class Fusion { fused, unfused };

// The rules a fused network on Backend groups its layers by (`type`, a list
// of rules like fusion::Follows); defined in layers/fusion_rules.hpp.
template <class Backend>
struct fusion_rules_for;

namespace fusion {

struct none {};
struct producer {};
struct stage {};
struct sink {};

struct rows : producer {};
struct planes : producer {};
struct normalization : stage {};
struct activation : stage {};
struct pooling : sink {};
struct distribution : sink {};
struct repetition {};
struct recurrence {};

template <class Layer>
struct role {
    using type = none;
};
template <class Layer>
    requires requires { typename Layer::fusion_role; }
struct role<Layer> {
    using type = typename Layer::fusion_role;
};
template <class Layer>
using role_of = typename role<Layer>::type;

// A layer that failed its checks joins no group: its stand-in impl has
// none of a role's members, and the failed check stays the only error.
template <class Bound>
using bound_role = std::conditional_t<Bound::valid, role_of<typename Bound::layer>, none>;

// The rule "a layer whose role is Next may join a group opened by a layer
// whose role derives from Opener, when the group's last layer is that opener
// or has one of the roles After".
template <class Next, class Opener, class... After>
struct Follows {
    template <class First, class Last, class Candidate>
    static constexpr bool admits =
        std::is_same_v<bound_role<Candidate>, Next> && std::is_base_of_v<Opener, bound_role<First>> &&
        (std::is_same_v<First, Last> || (std::is_same_v<bound_role<Last>, After> || ...));
};

} // namespace fusion

namespace detail {

using boost::mp11::mp_back;
using boost::mp11::mp_fold;
using boost::mp11::mp_front;
using boost::mp11::mp_list;
using boost::mp11::mp_pop_back;
using boost::mp11::mp_push_back;
using boost::mp11::mp_size;
using boost::mp11::mp_transform;

// Bound layers that run as one impl.
template <class... Bound>
struct Group {
    using first = mp_front<mp_list<Bound...>>;
    using last = mp_back<mp_list<Bound...>>;
    using input_shape = typename first::input_shape;
    using output_shape = typename last::output_shape;
    static constexpr std::size_t size = sizeof...(Bound);
    static constexpr std::size_t param_count = (Bound::param_count + ...);
    static constexpr std::size_t state_count = (Bound::state_count + ...);
};

template <class Rules, class G, class Next>
inline constexpr bool joins = false;
template <class... Rules, class... Bound, class Next>
inline constexpr bool joins<mp_list<Rules...>, Group<Bound...>, Next> =
    (Rules::template admits<typename Group<Bound...>::first, typename Group<Bound...>::last, Next> ||
     ...);

template <class G, class Next>
struct extend;
template <class... Bound, class Next>
struct extend<Group<Bound...>, Next> {
    using type = Group<Bound..., Next>;
};

template <class Rules>
struct appender {
    template <class Groups, class Next>
    struct apply {
        using type = mp_push_back<Groups, Group<Next>>;
    };
    template <class Groups, class Next>
        requires(mp_size<Groups>::value > 0 && joins<Rules, mp_back<Groups>, Next>)
    struct apply<Groups, Next> {
        using type = mp_push_back<mp_pop_back<Groups>, typename extend<mp_back<Groups>, Next>::type>;
    };
    template <class Groups, class Next>
    using fn = typename apply<Groups, Next>::type;
};

template <class Bound>
using single_group = Group<Bound>;

// mp_list<BoundLayer...> -> mp_list<Group<...>...>
template <class BoundLayers, class Rules, Fusion F>
using group_layers =
    std::conditional_t<F == Fusion::fused,
                       mp_fold<BoundLayers, mp_list<>, appender<Rules>::template fn>,
                       mp_transform<single_group, BoundLayers>>;

} // namespace detail

} // namespace ctnn
