// Fusion as a rewrite of the layer list: consecutive layers that can run as one
// pass are grouped, and each group becomes one impl. The rules:
// - a layer declaring `fuses_activation` absorbs the element-wise activation
//   that follows it (Dense+Tanh runs as one GEMM plus one epilogue pass);
// - a layer declaring `absorbs_batch_norm` (Conv2D) absorbs a following
//   BatchNorm and the activation after that; at inference the BatchNorm folds
//   into its kernel (Conv2D+BatchNorm+ReLU runs as one convolution pass);
// - a layer declaring `absorbs_pooling` (Conv2D), with or without its
//   activation, absorbs a following MaxPool2D, which pools in the
//   convolution's epilogue.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <utility>

#include "ctnn/core/bind.hpp"
#include "ctnn/core/config_list.hpp"
#include "ctnn/core/elementwise.hpp"
#include "ctnn/core/layer.hpp"

namespace ctnn::detail {

// mp_back, mp_fold, mp_list, mp_push_back and mp_size come with bind.hpp.
using boost::mp11::mp_pop_back;
using boost::mp11::mp_transform;

// Bound layers that run as one impl; the first owns the parameters.
template <class... Bound>
struct Group {
    using first = boost::mp11::mp_front<mp_list<Bound...>>;
    using last = mp_back<mp_list<Bound...>>;
    using input_shape = typename first::input_shape;
    using output_shape = typename last::output_shape;
    static constexpr std::size_t param_count = (Bound::param_count + ...);
};

template <class G, class Next>
inline constexpr bool absorbs = false;
template <class Bound, class Next>
inline constexpr bool absorbs<Group<Bound>, Next> =
    (FusesActivation<typename Bound::layer> && ActivationLayer<typename Next::layer>) ||
    (AbsorbsBatchNorm<typename Bound::layer> && FoldsIntoPreceding<typename Next::layer>) ||
    (AbsorbsPooling<typename Bound::layer> && PoolsInEpilogue<typename Next::layer>);
template <class Bound, class Second, class Next>
inline constexpr bool absorbs<Group<Bound, Second>, Next> =
    (FoldsIntoPreceding<typename Second::layer> && ActivationLayer<typename Next::layer>) ||
    (AbsorbsPooling<typename Bound::layer> && ActivationLayer<typename Second::layer> &&
     PoolsInEpilogue<typename Next::layer>);

template <class Groups, class Next>
struct append_fusing {
    using type = mp_push_back<Groups, Group<Next>>;
};
template <class Groups, class Next>
    requires(mp_size<Groups>::value > 0 && absorbs<mp_back<Groups>, Next>)
struct append_fusing<Groups, Next> {
    template <class G>
    struct extend;
    template <class... Bound>
    struct extend<Group<Bound...>> {
        using type = Group<Bound..., Next>;
    };
    using type = mp_push_back<mp_pop_back<Groups>, typename extend<mp_back<Groups>>::type>;
};

template <class Groups, class Next>
using append_fusing_t = typename append_fusing<Groups, Next>::type;

template <class Bound>
using single_group = Group<Bound>;

// mp_list<BoundLayer...> -> mp_list<Group<...>...>
template <class BoundLayers, bool Fuse>
using group_layers = std::conditional_t<Fuse, mp_fold<BoundLayers, mp_list<>, append_fusing_t>,
                                        mp_transform<single_group, BoundLayers>>;

// The impl type that runs a group on a backend.
template <class Backend, class G>
struct group_impl;
template <class Backend, class Bound>
struct group_impl<Backend, Group<Bound>> {
    using type = typename Bound::layer::template impl<typename Bound::input_shape, Backend>;

    template <class Configs>
    static type make(const Configs& configs) {
        return type(config_at<Bound::index>(configs));
    }
};
template <class Backend, class Bound, class Activation>
    requires ActivationLayer<typename Activation::layer>
struct group_impl<Backend, Group<Bound, Activation>> {
    using op = decltype(std::declval<typename Activation::layer>().op());
    using type = typename Bound::layer::template impl<typename Bound::input_shape, Backend, op>;

    template <class Configs>
    static type make(const Configs& configs) {
        return type(config_at<Bound::index>(configs), config_at<Activation::index>(configs).op());
    }
};

template <class B>
using leads_group = boost::mp11::mp_bool<LeadsGroup<typename B::layer>>;

// The op of a group's activation layer (none: the identity).
template <class Activations>
struct op_of {
    using type = ops::Identity;
};
template <class Activation>
struct op_of<mp_list<Activation>> {
    using type = decltype(std::declval<typename Activation::layer>().op());
};

// A group run by a later layer's `fused_impl` (a BatchNorm folding into the
// convolution that opens the group, a MaxPool2D pooling in its epilogue): it
// wraps the opener's impl and the op of the group's activation, if any.
template <class Backend, class Bound, class... Rest>
    requires(LeadsGroup<typename Rest::layer> || ...)
struct group_impl<Backend, Group<Bound, Rest...>> {
    using rest = mp_list<Rest...>;
    using leader = boost::mp11::mp_at<rest, boost::mp11::mp_find_if<rest, leads_group>>;
    using activation = boost::mp11::mp_remove_if<rest, leads_group>;  // empty or one layer
    using preceding = typename Bound::layer::template impl<typename Bound::input_shape, Backend>;
    using op = typename op_of<activation>::type;
    using type = typename leader::layer::template fused_impl<typename leader::input_shape, Backend,
                                                            preceding, op>;

    template <class Configs>
    static type make(const Configs& configs) {
        if constexpr (boost::mp11::mp_empty<activation>::value)
            return type(config_at<Bound::index>(configs), config_at<leader::index>(configs));
        else
            return type(config_at<Bound::index>(configs), config_at<leader::index>(configs),
                        config_at<boost::mp11::mp_front<activation>::index>(configs).op());
    }
};

} // namespace ctnn::detail
