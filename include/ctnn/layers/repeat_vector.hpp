// RepeatVector<N>: Shape<F> to Shape<N, F>, the vector repeated N times; it
// turns an encoder's last state into the input sequence of a decoder.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/config.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"

namespace ctnn {

namespace detail {

template <std::size_t Width, std::size_t N>
struct Repeat {
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / (N * Width), j = i % Width;
        y[i] = x[b * Width + j];
    }
};

// dx = the sum of the N copies' gradients, in step order.
template <std::size_t Width, std::size_t N>
struct SumRepeats {
    const float* dy;
    float* dx;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / Width, j = i % Width;
        float sum = dy[b * N * Width + j];
        for (std::size_t t = 1; t < N; ++t) sum += dy[(b * N + t) * Width + j];
        dx[i] = sum;
    }
};

} // namespace detail

template <std::size_t Width, std::size_t N, class Backend>
class RepeatVectorImpl;

template <std::size_t N>
struct RepeatVector {
    static constexpr std::string_view type_name = "RepeatVector";
    // A recurrent layer after it runs with it (layers/fusion_rules.hpp).
    using fusion_role = fusion::repetition;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(N > 0, "ctnn: RepeatVector<0> makes an empty sequence");
        static_assert(InputShape::rank == 1,
                      "ctnn: RepeatVector needs a rank-1 input (a vector to repeat); for a "
                      "sequence use a recurrent layer with ReturnSequences = false first");
        return Shape<N, InputShape::size>{};
    }
    template <class InputShape, class Backend>
    using impl = RepeatVectorImpl<InputShape::size, N, Backend>;
};

template <std::size_t Width, std::size_t N, class Backend>
class RepeatVectorImpl {
public:
    explicit RepeatVectorImpl(const RepeatVector<N>&) {}

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        call.backend.for_each(call.batch * N * Width, detail::Repeat<Width, N>{x, y});
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float*, float* dy, float* dx) {
        if (!dx) return nullptr;
        call.backend.for_each(call.batch * Width, detail::SumRepeats<Width, N>{dy, dx}, N);
        return dx;
    }
};

} // namespace ctnn
