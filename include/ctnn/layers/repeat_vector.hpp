// RepeatVector<N>: Shape<F> to Shape<N, F>, the vector repeated N times; it
// turns an encoder's last state into the input sequence of a decoder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/core/layer.hpp"
#include "ctnn/core/parallel.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

template <std::size_t Width, std::size_t N, class Backend>
class RepeatVectorImpl;

template <std::size_t N>
struct RepeatVector {
    static constexpr std::string_view type_name = "RepeatVector";

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(N > 0, "ctnn: RepeatVector<0> makes an empty sequence");
        static_assert(InputShape::rank == 1,
                      "ctnn: RepeatVector needs a rank-1 input (a vector to repeat); for a "
                      "sequence use a recurrent layer with ReturnSequences = false first");
        return Shape<N, InputShape::size>{};
    }
    template <class InputShape>
    static constexpr std::size_t param_count = 0;
    template <class InputShape, class Backend>
    using impl = RepeatVectorImpl<InputShape::size, N, Backend>;
};

template <std::size_t Width, std::size_t N, class Backend>
class RepeatVectorImpl : public ParameterFreeImpl {
public:
    explicit RepeatVectorImpl(const RepeatVector<N>&) {}

    const float* forward(const Context&, const float*, const float* x, float* y,
                         std::size_t batch) {
        parallel_for(batch, parallel_grain / (N * Width) + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t b = first; b < last; ++b)
                for (std::size_t t = 0; t < N; ++t)
                    std::copy_n(x + b * Width, Width, y + (b * N + t) * Width);
        });
        return y;
    }

    // dx = the sum of the N copies' gradients.
    float* backward(const Context&, const float*, float*, const float*, const float*, float* dy,
                    float* dx, std::size_t batch) {
        if (!dx) return nullptr;
        parallel_for(batch, parallel_grain / (N * Width) + 1, [=](std::size_t first, std::size_t last) {
            for (std::size_t b = first; b < last; ++b) {
                float* out = dx + b * Width;
                std::copy_n(dy + b * N * Width, Width, out);
                for (std::size_t t = 1; t < N; ++t) {
                    const float* g = dy + (b * N + t) * Width;
                    for (std::size_t i = 0; i < Width; ++i) out[i] += g[i];
                }
            }
        });
        return dx;
    }
};

} // namespace ctnn
