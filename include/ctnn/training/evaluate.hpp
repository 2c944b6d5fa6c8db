// evaluate() and predict(): inference over a whole data set, in batches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xtensor.hpp>

#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/categorical_cross_entropy.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/training/confusion_matrix.hpp"

namespace ctnn {

struct Evaluation {
    float loss = 0.0f;      // the loss, plus the layers' regularisation terms as Keras reports
    float accuracy = 0.0f;  // per output row (per sample; per time step for sequences)
    ConfusionMatrix confusion;
};

template <class Net, class Loss = CategoricalCrossEntropy>
Evaluation evaluate(Net& net, const data::Dataset& data, const Loss& loss = {},
                    std::size_t batch_size = 256) {
    detail::check_dataset<Net>(data, "evaluate", "the");
    using rows = detail::OutputRows<Net>;
    Evaluation result{0.0f, 0.0f, ConfusionMatrix(rows::width > 1 ? rows::width : 2)};
    const std::size_t in = Net::input_shape::size, out = data.target_width();
    double loss_sum = 0.0;
    std::size_t row_count = 0;
    for (std::size_t start = 0; start < data.size(); start += batch_size) {
        std::size_t batch = std::min(batch_size, data.size() - start);
        auto predictions = net.forward({data.inputs.data() + start * in, batch * in}, batch);
        LossBatch b = rows::batch(predictions.data(), data.targets.data() + start * out, batch, out);
        loss_sum += double(loss.value(b)) * double(b.rows);
        row_count += b.rows;
        for (std::size_t r = 0; r < b.rows; ++r)
            result.confusion.add(detail::true_class(b, r), detail::predicted_class(b, r));
    }
    result.loss = float(loss_sum / double(row_count)) + net.penalty();
    result.accuracy = float(result.confusion.accuracy());
    return result;
}

// Network outputs for every row of `inputs` (samples x input values).
template <class Net>
xt::xtensor<float, 2> predict(Net& net, const xt::xtensor<float, 2>& inputs,
                              std::size_t batch_size = 256) {
    constexpr std::size_t in = Net::input_shape::size, out = Net::output_shape::size;
    if (inputs.shape(1) != in)
        throw std::invalid_argument("ctnn: predict: inputs have " +
                                    std::to_string(inputs.shape(1)) +
                                    " values per sample, but the network's Input is " +
                                    to_string(typename Net::input_shape{}) + " (" +
                                    std::to_string(in) + " values)");
    xt::xtensor<float, 2> outputs({inputs.shape(0), out});
    for (std::size_t start = 0; start < inputs.shape(0); start += batch_size) {
        std::size_t batch = std::min(batch_size, inputs.shape(0) - start);
        auto y = net.forward({inputs.data() + start * in, batch * in}, batch);
        std::copy(y.begin(), y.end(), outputs.data() + start * out);
    }
    return outputs;
}

} // namespace ctnn
