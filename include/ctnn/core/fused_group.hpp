// The impl of a fused group (core/fusion.hpp): its first layer produces, the
// others contribute epilogue stages or the sink, and the whole group is one
// pass over memory. Each member keeps its own impl, whose parts the group
// composes:
//
//   producer (rows, planes)        layout; bias_stage(call); produce(call, x, y, sink);
//                                  produce_backward(call, x, y, dy, dx, sink)
//   a stage (normalization,        stage(call): an epilogue stage (core/epilogue.hpp);
//     activation)                  a stage that may need its batch's statistics also
//                                  says splits(context) (BatchNorm: in training)
//   a sink (pooling, distribution) sink<Layout>(call, stages): the sink to end in
//
// When a member splits the group, the group runs in three steps: the producer
// with the stages before it, that member on its own, and the rest as an
// epilogue over its output (core/epilogue.hpp's run_forward).
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/core/config_list.hpp"
#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/slots.hpp"

namespace ctnn::detail {

template <class Bound>
inline constexpr bool is_stage = std::is_base_of_v<fusion::stage, fusion::role_of<typename Bound::layer>>;
template <class Bound>
inline constexpr bool is_sink = std::is_base_of_v<fusion::sink, fusion::role_of<typename Bound::layer>>;
template <class Bound, class Backend>
inline constexpr bool may_split =
    requires(const typename Bound::template impl<Backend>& impl, const Context& context) {
        { impl.splits(context) } -> std::convertible_to<bool>;
    };

template <class Backend, class... Bound>
class FusedGroup {
    using members = boost::mp11::mp_list<Bound...>;
    static constexpr std::size_t count = sizeof...(Bound);
    template <std::size_t K>
    using bound_at = boost::mp11::mp_at_c<members, K>;
    using opener = bound_at<0>;
    using layout = typename opener::template impl<Backend>::layout;

    static constexpr std::array<std::size_t, count> param_offsets = [] {
        std::array<std::size_t, count> offsets{};
        std::size_t at = 0, k = 0;
        ((offsets[k++] = at, at += Bound::param_count), ...);
        return offsets;
    }();
    static constexpr std::array<std::size_t, count> state_offsets = [] {
        std::array<std::size_t, count> offsets{};
        std::size_t at = 0, k = 0;
        ((offsets[k++] = at, at += Bound::state_count), ...);
        return offsets;
    }();
    // The member that may split the group, or `count`.
    static constexpr std::size_t splitter = [] {
        constexpr std::array<bool, count> splits{may_split<Bound, Backend>...};
        for (std::size_t k = 0; k < count; ++k)
            if (splits[k]) return k;
        return count;
    }();
    static_assert(((may_split<Bound, Backend> ? 1 : 0) + ...) <= 1,
                  "ctnn: a fused group holds at most one layer that needs batch statistics");
    static constexpr bool ends_in_sink = is_sink<bound_at<count - 1>>;
    // Values of the producer's output per sample, and its planes.
    static constexpr std::size_t produced = opener::output_shape::size;
    static constexpr std::size_t planes_per_sample = produced / layout::length;
    // A member with parameters of its own past the producer (BatchNorm's
    // gamma and beta) needs the group's intermediate values in backward.
    static constexpr bool keeps_intermediates = [] {
        if constexpr (splitter < count)
            return bound_at<splitter>::param_count > 0;
        else
            return false;
    }();

public:
    static constexpr std::size_t param_count = (Bound::param_count + ...);
    static constexpr std::size_t state_count = (Bound::state_count + ...);

    template <class Configs>
    explicit FusedGroup(const Configs& configs)
        : impls_(std::in_place, config_at<Bound::index>(configs)...) {}

    void reserve(const Backend& backend, std::size_t max_batch) {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (reserve_one(slot<K>(impls_), backend, max_batch), ...);
        }(std::make_index_sequence<count>{});
        if constexpr (splitter < count) {
            if (max_batch <= capacity_) return;
            capacity_ = max_batch;
            produced_.resize(max_batch * produced);
            produced_gradient_.resize(max_batch * produced);
            if constexpr (splitter + 1 < count) {
                normalized_.resize(max_batch * produced);
                normalized_gradient_.resize(max_batch * produced);
            }
        }
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        split_ = splits(call);
        if (split_)
            forward_split(call, x, y);
        else
            forward_fused(call, x, y);
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float* x, const float* y, float* dy,
                    float* dx) {
        if constexpr (keeps_intermediates) {
            // A fused forward kept no intermediate values: run the group again
            // in steps (at inference that leaves the running statistics alone),
            // rewriting the same output.
            if (!split_) {
                forward_split(call, x, const_cast<float*>(y));
                split_ = true;
            }
        }
        if constexpr (splitter < count)
            if (split_) return backward_split(call, x, y, dy, dx);
        auto sink = sink_over<layout>(call, stages<0, count>(call));
        sink.folded = call.folded_output;
        return opener_impl().produce_backward(member_call<0>(call), x, y, dy, dx, sink);
    }

private:
    template <class Impl>
    static void reserve_one(Impl& impl, const Backend& backend, std::size_t max_batch) {
        if constexpr (requires { impl.reserve(backend, max_batch); }) impl.reserve(backend, max_batch);
    }

    auto& opener_impl() { return slot<0>(impls_); }

    template <std::size_t K>
    LayerCall<Backend> member_call(const LayerCall<Backend>& call) const {
        LayerCall<Backend> part = call.part(param_offsets[K], state_offsets[K]);
        part.folded_output = K + 1 == count && call.folded_output;
        return part;
    }

    bool splits(const LayerCall<Backend>& call) const {
        if constexpr (splitter < count)
            return slot<splitter>(impls_).splits(call.context);
        else
            return false;
    }

    // The epilogue chain of members [From, To): the producer's bias for 0,
    // then each stage's.
    template <std::size_t From, std::size_t To>
    auto stages(const LayerCall<Backend>& call) {
        if constexpr (From == To)
            return epilogue::Chain<>{};
        else if constexpr (From == 0)
            return epilogue::prepend(opener_impl().bias_stage(member_call<0>(call)), stages<1, To>(call));
        else if constexpr (is_stage<bound_at<From>>)
            return epilogue::prepend(slot<From>(impls_).stage(member_call<From>(call)),
                                     stages<From + 1, To>(call));
        else
            return stages<From + 1, To>(call);
    }

    // The group's sink over those stages: its last member's, or a plain store.
    template <class Layout, class Stages>
    auto sink_over(const LayerCall<Backend>& call, const Stages& chain) {
        if constexpr (ends_in_sink)
            return slot<count - 1>(impls_).template sink<Layout>(member_call<count - 1>(call), chain);
        else
            return epilogue::store<Layout>(chain);
    }

    void forward_fused(const LayerCall<Backend>& call, const float* x, float* y) {
        auto sink = sink_over<layout>(call, stages<0, count>(call));
        opener_impl().produce(member_call<0>(call), x, y, sink);
    }

    // The producer and the stages before the splitter; the splitter; the rest.
    void forward_split(const LayerCall<Backend>& call, const float* x, float* y) {
        if constexpr (splitter < count) {
            const auto before = epilogue::store<layout>(stages<0, splitter>(call));
            opener_impl().produce(member_call<0>(call), x, produced_.data(), before);
            float* normalized = splitter + 1 < count ? normalized_.data() : y;
            slot<splitter>(impls_).forward(member_call<splitter>(call), produced_.data(), normalized);
            if constexpr (splitter + 1 < count)
                epilogue::run_forward(call.backend, sink_over<layout>(call, stages<splitter + 1, count>(call)),
                                      normalized, y, call.batch * planes_per_sample);
        }
    }

    float* backward_split(const LayerCall<Backend>& call, const float* x, const float* y, float* dy,
                          float* dx) {
        const float* normalized = y;
        float* d_normalized = dy;
        if constexpr (splitter + 1 < count) {
            auto after = sink_over<layout>(call, stages<splitter + 1, count>(call));
            after.folded = call.folded_output;
            normalized = normalized_.data();
            d_normalized = normalized_gradient_.data();
            epilogue::run_backward(call.backend, after, dy, y, d_normalized, call.batch * planes_per_sample);
        }
        float* d_produced = slot<splitter>(impls_).backward(
            member_call<splitter>(call), produced_.data(), normalized, d_normalized,
            produced_gradient_.data());
        const auto before = epilogue::store<layout>(stages<0, splitter>(call));
        return opener_impl().produce_backward(member_call<0>(call), x, produced_.data(), d_produced,
                                              dx, before);
    }

    Slots<typename Bound::template impl<Backend>...> impls_;
    bool split_ = false;
    std::size_t capacity_ = 0;
    typename Backend::template buffer<float> produced_;             // the producer's output
    typename Backend::template buffer<float> produced_gradient_;
    typename Backend::template buffer<float> normalized_;           // the splitter's output
    typename Backend::template buffer<float> normalized_gradient_;
};

} // namespace ctnn::detail
