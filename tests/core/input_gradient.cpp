// Network::backward_to_inputs: d(loss)/d(inputs) of a whole network, against
// central differences of the network's output, through a convolution, a
// pool and a Dense layer, and through an LSTM; the parameter gradients are
// those backward() gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"

namespace core_input_gradient_test {

// The "loss" sum(weights * outputs), so that d(loss)/d(outputs) = weights.
// The inputs stay in `inputs`: backward reads them.
template <class Net, class Buffer>
double weighted_output(Net& net, const std::vector<float>& x, const std::vector<float>& weights, std::size_t batch,
                       Buffer& inputs) {
    const auto& backend = net.backend();
    inputs.resize(x.size());
    backend.to_device(x.data(), inputs.data(), x.size());
    const auto y = net.forward({inputs.data(), x.size()}, batch, ctnn::Context{ctnn::Mode::training, 1, 0, 0});
    std::vector<float> host(y.size());
    backend.to_host(y.data(), host.data(), y.size());
    double sum = 0.0;
    for (std::size_t i = 0; i < host.size(); ++i) sum += double(weights[i]) * host[i];
    return sum;
}

template <class Net>
void check_input_gradient(std::size_t batch) {
    constexpr std::size_t in = Net::input_shape::size, out = Net::output_shape::size;
    Net net{ctnn::Seed{4}};
    const auto& backend = net.backend();
    ctnn::Rng rng(9);
    std::vector<float> x(batch * in), weights(batch * out);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : weights) v = rng.uniform(-1.0f, 1.0f);
    typename Net::backend_type::template buffer<float> inputs;

    weighted_output(net, x, weights, batch, inputs);
    backend.to_device(weights.data(), net.output_gradient(), weights.size());
    const auto dx = net.backward_to_inputs(ctnn::Context{ctnn::Mode::training, 1, 0, 0}, batch);
    REQUIRE(dx.size() == batch * in);
    std::vector<float> analytic(dx.size());
    backend.to_host(dx.data(), analytic.data(), dx.size());
    const std::vector<float> parameter_gradients = net.host_gradients();

    // backward() alone: the same parameter gradients.
    weighted_output(net, x, weights, batch, inputs);
    backend.to_device(weights.data(), net.output_gradient(), weights.size());
    net.backward(ctnn::Context{ctnn::Mode::training, 1, 0, 0}, batch);
    CHECK((net.host_gradients() == parameter_gradients));

    constexpr float h = 1e-2f;
    std::size_t checked = 0;
    for (std::size_t i = 0; i < x.size(); i += 1 + x.size() / 40) {
        std::vector<float> up = x, down = x;
        up[i] += h;
        down[i] -= h;
        const double numeric = (weighted_output(net, up, weights, batch, inputs) - weighted_output(net, down, weights, batch, inputs)) / (2 * h);
        CHECK(std::abs(analytic[i] - numeric) <= 2e-3 + 2e-2 * std::abs(numeric));
        ++checked;
    }
    CHECK(checked >= std::min<std::size_t>(x.size(), 20));
}

TEST_CASE_TEMPLATE("backward_to_inputs: a CNN's input gradient matches central differences", Backend,
                   CTNN_TEST_BACKENDS) {
    using Cnn = ctnn::Sequential<ctnn::Input<2, 6, 6>, ctnn::Conv2D<3, 3>, ctnn::Tanh, ctnn::AvgPool2D<2>,
                                 ctnn::Flatten, ctnn::Dense<4>, ctnn::Softmax>;
    check_input_gradient<typename Cnn::template on<Backend>>(3);
}

TEST_CASE_TEMPLATE("backward_to_inputs: an LSTM's input gradient matches central differences", Backend,
                   CTNN_TEST_BACKENDS) {
    using Rnn = ctnn::Sequential<ctnn::Input<4, 3>, ctnn::LSTM<5, true>, ctnn::TimeDistributed<ctnn::Dense<3>>,
                                 ctnn::Softmax>;
    check_input_gradient<typename Rnn::template on<Backend>>(2);
}

TEST_CASE("backward_to_inputs: a first layer without parameters passes the gradient on") {
    using Net = ctnn::Sequential<ctnn::Input<2, 3>, ctnn::Flatten, ctnn::Dense<2>, ctnn::Tanh>;
    check_input_gradient<Net::on<ctnn::backend::Cpu>>(4);
}

} // namespace core_input_gradient_test
