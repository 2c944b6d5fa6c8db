// Dense<Units>: y = activation(x W + b), W of shape (inputs, units) as in Keras.
// It produces rows: one GEMM, then its epilogue (the bias and whatever the
// layers fused after it contribute) over each row while it is in cache.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/backend.hpp"
#include "ctnn/core/epilogue.hpp"
#include "ctnn/core/fusion.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/parameters.hpp"
#include "ctnn/layers/fusion_rules.hpp"

namespace ctnn {

template <std::size_t Inputs, std::size_t Units, class Backend>
class DenseImpl;

template <std::size_t Units>
struct Dense {
    Initializer kernel_initializer = Initializer::glorot_uniform;
    float l2 = 0.0f;  // kernel regulariser: adds l2 * sum(W^2) to the loss

    static constexpr std::string_view type_name = "Dense";
    using fusion_role = fusion::rows;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(Units > 0, "ctnn: Dense<0> has no outputs");
        static_assert(InputShape::rank == 1,
                      "ctnn: Dense needs a rank-1 input; insert ctnn::Flatten before it");
        return Shape<Units>{};
    }
    template <class InputShape>
    constexpr auto parameters() const {
        return std::array{ParameterArray{"kernel", dims(InputShape::size, Units), Layout::matrix,
                                         kernel_initializer, l2},
                          ParameterArray{"bias", dims(Units)}};
    }
    template <class InputShape, class Backend>
    using impl = DenseImpl<InputShape::size, Units, Backend>;
};

template <std::size_t Inputs, std::size_t Units, class Backend>
class DenseImpl : public epilogue::Producer<DenseImpl<Inputs, Units, Backend>, epilogue::Rows<Units>, Backend> {
    using plain = typename DenseImpl::plain;

public:
    explicit DenseImpl(const Dense<Units>&) {}

    epilogue::Bias bias_stage(const LayerCall<Backend>& call) const { return {bias(call.params)}; }

    // y = x W, then the epilogue over each row, in place.
    template <class Sink>
    void produce(const LayerCall<Backend>& call, const float* x, float* y, const Sink& sink) {
        call.backend.gemm(Trans::no, Trans::no, call.batch, Units, Inputs, 1.0f, x, Inputs,
                          call.params, Units, 0.0f, y, Units);
        epilogue::run_forward(call.backend, sink, y, y, call.batch);
    }

    // The epilogue's gradient over each row of dy, in place, then the GEMMs.
    template <class Sink>
    float* produce_backward(const LayerCall<Backend>& call, const float* x, const float* y,
                            float* dy, float* dx, const Sink& sink) {
        if constexpr (!std::is_same_v<Sink, plain>)
            epilogue::run_backward(call.backend, sink, dy, y, dy, call.batch);
        const Backend& backend = call.backend;
        backend.gemm(Trans::yes, Trans::no, Inputs, Units, call.batch, 1.0f, x, Inputs, dy, Units,
                     0.0f, call.grads, Units);
        backend.column_sums(dy, call.batch, Units, call.grads + Inputs * Units);
        if (dx)
            backend.gemm(Trans::no, Trans::yes, call.batch, Inputs, Units, 1.0f, dy, Units,
                         call.params, Units, 0.0f, dx, Inputs);
        return dx;
    }

private:
    static const float* bias(const float* params) { return params + Inputs * Units; }
};

} // namespace ctnn
