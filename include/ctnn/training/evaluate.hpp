// evaluate() and predict(): inference over a whole data set, in batches.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xtensor.hpp>

#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/categorical_cross_entropy.hpp"
#include "ctnn/losses/loss.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/confusion_matrix.hpp"

namespace ctnn {

struct Evaluation {
    float loss = 0.0f;      // the loss, plus the layers' regularisation terms as Keras reports
    float accuracy = 0.0f;  // per output row (per sample; per time step for sequences)
    ConfusionMatrix confusion;
};

namespace detail {

// What evaluate() adds up over rows [first, last) of a data set: the loss
// times the rows, the rows, and the confusion matrix (counted on the host).
template <class Net, class L>
void evaluate_rows(Net& net, const data::Dataset& data, const L& loss, std::size_t batch_size,
                   std::size_t first, std::size_t last, double& loss_sum, std::size_t& row_count,
                   ConfusionMatrix& confusion) {
    using Backend = typename Net::backend_type;
    using rows = OutputRows<Net>;
    const Backend& backend = net.backend();
    const std::size_t in = Net::input_shape::size, out = data.target_width();
    Staging<Backend> inputs, targets, predictions;
    for (std::size_t start = first; start < last; start += batch_size) {
        const std::size_t batch = std::min(batch_size, last - start);
        const float* x = inputs.to_device(backend, data.inputs.data() + start * in, batch * in);
        const float* t = targets.to_device(backend, data.targets.data() + start * out, batch * out);
        auto y = net.forward({x, batch * in}, batch);
        const LossBatch b = rows::batch(y.data(), t, batch, out);
        loss_sum += double(loss.value(backend, b)) * double(b.rows);
        row_count += b.rows;
        LossBatch host = b;
        host.predictions = predictions.to_host(backend, y.data(), y.size());
        host.targets = data.targets.data() + start * out;
        for (std::size_t r = 0; r < host.rows; ++r)
            confusion.add(true_class(host, r), predicted_class(host, r));
    }
}

} // namespace detail

template <class Net, class L = CategoricalCrossEntropy>
Evaluation evaluate(Net& net, const data::Dataset& data, const L& loss = {},
                    std::size_t batch_size = 256) {
    using Backend = typename Net::backend_type;
    static_assert(Loss<L, Backend>, "ctnn: evaluate needs a loss (losses/loss.hpp lists what one "
                                    "provides); the notes name what is missing");
    detail::check_dataset<Net>(data, "evaluate", "the");
    using rows = detail::OutputRows<Net>;
    Evaluation result{0.0f, 0.0f, ConfusionMatrix(rows::width > 1 ? rows::width : 2)};
    double loss_sum = 0.0;
    std::size_t row_count = 0;
    detail::evaluate_rows(net, data, loss, batch_size, 0, data.size(), loss_sum, row_count, result.confusion);
    result.loss = float(loss_sum / double(row_count)) + net.penalty();
    result.accuracy = float(result.confusion.accuracy());
    return result;
}

// Network outputs for every row of `inputs` (samples x input values), shaped
// (samples, output dims...): (n, classes), or (n, steps, classes) for sequences.
template <class Net>
auto predict(Net& net, const xt::xtensor<float, 2>& inputs, std::size_t batch_size = 256) {
    using Backend = typename Net::backend_type;
    using output = typename Net::output_shape;
    constexpr std::size_t in = Net::input_shape::size, out = output::size;
    if (inputs.shape(1) != in)
        throw std::invalid_argument("ctnn: predict: inputs have " +
                                    std::to_string(inputs.shape(1)) +
                                    " values per sample, but the network's Input is " +
                                    to_string(typename Net::input_shape{}) + " (" +
                                    std::to_string(in) + " values)");
    std::array<std::size_t, output::rank + 1> shape{inputs.shape(0)};
    std::copy(output::dims.begin(), output::dims.end(), shape.begin() + 1);
    xt::xtensor<float, output::rank + 1> outputs(shape);
    const Backend& backend = net.backend();
    detail::Staging<Backend> staging;
    for (std::size_t start = 0; start < inputs.shape(0); start += batch_size) {
        const std::size_t batch = std::min(batch_size, inputs.shape(0) - start);
        const float* x = staging.to_device(backend, inputs.data() + start * in, batch * in);
        auto y = net.forward({x, batch * in}, batch);
        backend.to_host(y.data(), outputs.data() + start * out, y.size());
    }
    return outputs;
}

} // namespace ctnn
