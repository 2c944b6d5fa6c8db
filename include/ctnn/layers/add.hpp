// Add: the element-wise sum of several tensors of one shape (Keras's Add),
// e.g. two branches' features before a shared head.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/row_parts.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

namespace detail {

// The one shape of a sum's terms and how many there are; the input itself
// where it is no Shapes<...> of one shape (an error Add reports).
template <class InputShape>
struct Terms {
    using term = InputShape;
    static constexpr std::size_t count = 1;
    static constexpr bool valid = false;
};
template <class... Parts>
struct Terms<Shapes<Parts...>> {
    using term = typename Shapes<Parts...>::template part<0>;
    static constexpr std::size_t count = sizeof...(Parts);
    static constexpr bool valid = Shapes<Parts...>::uniform;
};

} // namespace detail

template <class Terms, class Backend>
class AddImpl;

struct Add {
    static constexpr std::string_view type_name = "Add";
    static constexpr bool takes_several_inputs = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(detail::Terms<InputShape>::valid,
                      "ctnn: Add sums several tensors of one shape (after Inputs, Shared or Parallel)");
        return typename detail::Terms<InputShape>::term{};
    }
    template <class InputShape, class Backend>
    using impl = AddImpl<detail::Terms<InputShape>, Backend>;
};

template <class Terms, class Backend>
class AddImpl {
    static constexpr std::size_t count = Terms::count, width = Terms::term::size;

public:
    explicit AddImpl(const Add&) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        call.backend.for_each(call.batch * width, detail::SumParts{x, count, width, y}, count);
        return y;
    }
    // Each term's gradient is the sum's.
    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        if (!dx) return nullptr;
        call.backend.for_each(call.batch * count * width, detail::RepeatPart{dy, count, width, dx});
        return dx;
    }
};

} // namespace ctnn
