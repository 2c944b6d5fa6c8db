// Add: the element-wise sum of several tensors of one shape (Keras's Add),
// e.g. two branches' features before a shared head.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/row_parts.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

template <class Terms, class Backend>
class AddImpl;

struct Add {
    static constexpr std::string_view type_name = "Add";
    static constexpr bool takes_several_inputs = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(detail::UniformParts<InputShape>::valid,
                      "ctnn: Add sums several tensors of one shape (after Inputs, Shared or Parallel)");
        return typename detail::UniformParts<InputShape>::part{};
    }
    template <class InputShape, class Backend>
    using impl = AddImpl<detail::UniformParts<InputShape>, Backend>;
};

template <class Terms, class Backend>
class AddImpl {
    static constexpr std::size_t count = Terms::count, width = Terms::part::size;

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
