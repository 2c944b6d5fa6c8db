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
// folded_gradient(backend, batch, out), the gradient of that activation's input.
#pragma once

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
};

template <class L, class Backend>
concept Loss = requires(const L& loss, const Backend& backend, const LossBatch& batch, float* out) {
    { L::name } -> std::convertible_to<std::string_view>;
    { loss.value(backend, batch) } -> std::convertible_to<float>;
    loss.gradient(backend, batch, out);
};

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
