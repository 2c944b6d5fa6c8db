// What every loss sees, and what it provides. A batch of predictions is laid
// out as `rows` rows of `width` values (a row per sample, or per time step
// for sequence outputs), with the matching targets, both in the backend's
// memory. All losses are means over rows, as in Keras.
//
// A loss provides
//
//   static constexpr std::string_view name;
//   float value(const Backend&, const LossBatch&) const;         // the mean loss
//   void gradient(const Backend&, const LossBatch&, float* out) const;
//                                                                 // d(mean loss)/d(predictions)
//
// and, to fold into the output activation (softmax with cross-entropy),
// `template <class OutputLayer> static constexpr bool folds_into` and
// folded_gradient(backend, batch, out), the gradient of that activation's input;
// for fit to capture its steps in a graph (AccumulatingLoss), accumulate()
// and check_targets(), which FunctorLoss provides.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>


namespace ctnn {

struct LossBatch {
    const float* predictions;
    const float* targets;
    std::size_t rows;
    std::size_t width;         // values per prediction row
    std::size_t target_width;  // values per target row
    // The targets' values were checked already (fit checks a data set's
    // once): a loss then checks only the shapes, and waits for nothing.
    bool targets_checked = false;
};

template <class L, class Backend>
concept Loss = requires(const L& loss, const Backend& backend, const LossBatch& batch, float* out) {
    { L::name } -> std::convertible_to<std::string_view>;
    { loss.value(backend, batch) } -> std::convertible_to<float>;
    loss.gradient(backend, batch, out);
};

// A loss that fit can run inside a captured training step: it adds its
// value to a device total, and checks a whole data set's targets on the
// host beforehand (FunctorLoss provides both).
template <class L, class Backend>
concept AccumulatingLoss = requires(const L& loss, const Backend& backend, const LossBatch& batch,
                                    double* total) {
    loss.accumulate(backend, batch, total, 1.0);
    L::check_targets(batch);
};

namespace detail {

// What a loss's check(backend, batch) needs, over host memory: it checks a
// data set's targets before a fit whose steps do not stop to look.
struct HostTargets {
    template <class F>
    double transform_sum(std::size_t n, F f) const {
        double sum = 0.0;
        for (std::size_t i = 0; i < n; ++i) sum += f(i);
        return sum;
    }
    void to_host(const float* from, float* to, std::size_t n) const { std::copy_n(from, n, to); }
};

} // namespace detail

// Whether loss L folds into a network's last layer.
template <class L, class OutputLayer>
concept FoldsInto = requires { requires L::template folds_into<OutputLayer>; };

// A loss written as functors (every loss here): the mean of Term over its
// terms (rows, or values), Gradient for d(mean)/d(predictions) and, for a
// loss that folds into the output activation, Folded for the gradient of
// that activation's input. Derived::check(backend, batch) rejects targets
// that do not fit, before anything runs.
template <class Derived, class Term, class Gradient, class Folded = void>
struct FunctorLoss {
    template <class Backend>
    float value(const Backend& backend, const LossBatch& b) const {
        Derived::check(backend, b);
        const std::size_t n = Term::count(b);
        return float(backend.transform_sum(n, Term{b}) / double(n));
    }

    // *total += weight * the mean loss, on the device without waiting (what a
    // captured training step does). The targets are not checked here: fit
    // checks a whole data set's with check_targets first.
    template <class Backend>
    void accumulate(const Backend& backend, const LossBatch& b, double* total, double weight) const {
        const std::size_t n = Term::count(b);
        backend.accumulate_sum(n, Term{b}, total, weight / double(n));
    }

    // Derived::check on targets in host memory; the predictions are not read.
    static void check_targets(const LossBatch& b) { Derived::check(detail::HostTargets{}, b); }

    template <class Backend>
    void gradient(const Backend& backend, const LossBatch& b, float* out) const {
        Derived::check(backend, b);
        backend.for_each(b.rows * b.width, Gradient{b, out});
    }

    template <class Backend>
        requires(!std::is_void_v<Folded>)
    void folded_gradient(const Backend& backend, const LossBatch& b, float* out) const {
        Derived::check(backend, b);
        backend.for_each(b.rows * b.width, Folded{b, out});
    }
};

// For losses over independent outputs: one target value per prediction value.
inline void require_target_per_output(const LossBatch& b, std::string_view loss_name) {
    if (b.target_width != b.width)
        throw std::invalid_argument("ctnn: " + std::string(loss_name) +
                                    " needs one target per output: the output has " +
                                    std::to_string(b.width) + " values per row, the targets " +
                                    std::to_string(b.target_width));
}

} // namespace ctnn
