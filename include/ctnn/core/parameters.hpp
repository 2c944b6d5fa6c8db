// What a layer declares about its numbers: its parameter arrays (trained)
// and its state arrays (kept, not trained: BatchNorm's running statistics),
// each with a name, a shape and how it starts. One declaration serves the
// network's flat buffers and their offsets, initialisation, regularisation,
// saving, summaries, plots and the optimizers' per-variable options.
//
//   template <class InputShape>
//   constexpr auto parameters() const {
//       return std::array{ParameterArray{"kernel", dims(InputShape::size, Units), Layout::matrix,
//                                        kernel_initializer, l2},
//                         ParameterArray{"bias", dims(Units)}};
//   }
//
// The function is constexpr and reads the descriptor's run-time settings, so
// a default descriptor gives the sizes at compile time and the configured one
// gives the initialisers. A composite layer (Residual) also names the layer
// list inside it, `template <class InputShape> using sublayers`, whose arrays
// come first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "ctnn/core/initializers.hpp"

namespace ctnn {

// How an array's axes read: the fans an initializer uses, the images a plot draws.
enum class Layout {
    vector,         // (n): biases, BatchNorm's gamma and beta
    matrix,         // (inputs, outputs): Dense and recurrent kernels, as Keras stores them
    filters_first,  // (filters, channels, height, width): Conv2D kernels, as PyTorch stores them
};

// An array's extents, outermost first (at most four).
struct Dims {
    std::array<std::size_t, 4> extent{};
    std::size_t rank = 0;

    constexpr std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= extent[i];
        return n;
    }
};

constexpr Dims dims(auto... extents) {
    static_assert(sizeof...(extents) >= 1 && sizeof...(extents) <= 4, "ctnn: an array has 1 to 4 axes");
    return {{std::size_t(extents)...}, sizeof...(extents)};
}

struct ParameterArray {
    std::string_view name;
    Dims shape;
    Layout layout = Layout::vector;
    Initializer initializer = Initializer::zeros;
    float l2 = 0.0f;  // regulariser: adds l2 * sum(w^2) to the loss

    constexpr std::size_t size() const { return shape.size(); }

    // Keras's fans: inputs and outputs of a matrix; channels and filters
    // times the receptive field of a convolution kernel. For `orthogonal`,
    // the matrix's rows and columns.
    constexpr std::size_t fan_in() const {
        switch (layout) {
        case Layout::vector: return size();
        case Layout::matrix: return shape.extent[0];
        case Layout::filters_first: return size() / shape.extent[0];
        }
        return size();
    }
    constexpr std::size_t fan_out() const {
        switch (layout) {
        case Layout::vector: return size();
        case Layout::matrix: return size() / shape.extent[0];
        case Layout::filters_first: return size() / shape.extent[1];
        }
        return size();
    }
};

struct StateArray {
    std::string_view name;
    Dims shape;
    float initial = 0.0f;

    constexpr std::size_t size() const { return shape.size(); }
};

// One parameter array as an optimizer sees it (Keras's variable): clipnorm
// clips each by its own norm, weight decay may leave some out by name.
struct Variable {
    std::string path;       // "layer_01_Dense/kernel"
    std::string_view name;  // "kernel"
    std::size_t offset = 0;
    std::size_t size = 0;
    float l2 = 0.0f;        // its regulariser, which the network adds to the loss
};

// What an optimizer step updates: the network's flat parameters (device
// memory), their gradients, and the variables they hold.
struct ParameterSet {
    std::span<float> values;
    std::span<const float> gradients;
    std::span<const Variable> variables;
    // Where set, a flag in device memory: nonzero when the update runs, the
    // step went non-finite, and the optimizer changes nothing (its state
    // neither). fit sets it; the check runs on the device, so a captured
    // step can hold it.
    const std::uint32_t* halted = nullptr;
};

namespace detail {

template <class Layer, class InputShape>
concept declares_parameters = requires(const Layer& layer) { layer.template parameters<InputShape>(); };
template <class Layer, class InputShape>
concept declares_state = requires(const Layer& layer) { layer.template state<InputShape>(); };
template <class Layer, class InputShape>
concept composite = requires { typename Layer::template sublayers<InputShape>; };

template <class Array, class Layer, class InputShape>
concept declares = (std::is_same_v<Array, ParameterArray> ? declares_parameters<Layer, InputShape>
                                                           : declares_state<Layer, InputShape>);

} // namespace detail

// A layer's own arrays of one kind (ParameterArray or StateArray), as
// configured; none if it declares none.
template <class Array, class InputShape, class Layer>
constexpr auto declared_arrays(const Layer& layer) {
    if constexpr (!detail::declares<Array, Layer, InputShape>)
        return std::array<Array, 0>{};
    else if constexpr (std::is_same_v<Array, ParameterArray>)
        return layer.template parameters<InputShape>();
    else
        return layer.template state<InputShape>();
}
template <class InputShape, class Layer>
constexpr auto parameter_arrays(const Layer& layer) {
    return declared_arrays<ParameterArray, InputShape>(layer);
}
template <class InputShape, class Layer>
constexpr auto state_arrays(const Layer& layer) {
    return declared_arrays<StateArray, InputShape>(layer);
}

// A layer's own arrays in its default configuration, known at compile time
// (a layer that declares arrays is default-constructible in constant
// expressions: an aggregate with default member initialisers is).
template <class Array, class Layer, class InputShape>
inline constexpr auto default_arrays = [] {
    if constexpr (detail::declares<Array, Layer, InputShape>)
        return declared_arrays<Array, InputShape>(Layer{});
    else
        return std::array<Array, 0>{};
}();

template <class Arrays>
constexpr std::size_t total_size(const Arrays& arrays) {
    std::size_t n = 0;
    for (const auto& array : arrays) n += array.size();
    return n;
}

template <class Layer, class InputShape>
inline constexpr std::size_t own_param_count = total_size(default_arrays<ParameterArray, Layer, InputShape>);
template <class Layer, class InputShape>
inline constexpr std::size_t own_state_count = total_size(default_arrays<StateArray, Layer, InputShape>);

} // namespace ctnn
