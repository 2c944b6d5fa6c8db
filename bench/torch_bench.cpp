// libtorch's side of the comparison: the same workloads as ctnn_bench, with
// torch::nn modules, built against Debian's libtorch-dev (PyTorch 1.13).
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "harness.hpp"

namespace {

struct Mlp : torch::nn::Module {
    torch::nn::Linear hidden{nullptr}, output{nullptr};
    Mlp() {
        hidden = register_module("hidden", torch::nn::Linear(784, 250));
        output = register_module("output", torch::nn::Linear(250, 10));
    }
    torch::Tensor forward(torch::Tensor x) {
        x = torch::dropout(torch::tanh(hidden(x)), 0.5, is_training());
        return output(x);  // logits: cross_entropy applies log-softmax
    }
};

void train(int batch_size) {
    Mlp net;
    torch::optim::RMSprop optimizer(net.parameters(),
                                    torch::optim::RMSpropOptions(1e-3).alpha(0.9).eps(1e-7));
    auto inputs = torch::rand({batch_size, 784});
    auto labels = torch::randint(0, 10, {batch_size}, torch::kLong);
    net.train();
    auto step = [&] {
        optimizer.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net.forward(inputs), labels);
        loss.backward();
        optimizer.step();
    };
    bench::report_training(std::size_t(batch_size), step, 20, batch_size >= 512 ? 200 : 1000);
}

void infer() {
    Mlp net;
    net.eval();
    torch::NoGradGuard no_grad;
    auto one = torch::rand({1, 784}), many = torch::rand({256, 784});
    auto run = [&](const torch::Tensor& x) { return torch::softmax(net.forward(x), 1); };
    double seconds = bench::median_seconds([&] { run(one); }, 100, 5000);
    bench::report("mlp_infer_b1", seconds * 1e6, "us");
    seconds = bench::median_seconds([&] { run(many); }, 20, 500);
    bench::report("mlp_infer_b256", 256.0 / seconds, "samples/s");
    bench::report("allocations_per_inference",
                  bench::allocations_per_call([&] { run(one); }), "count");
    if (const char* dir = std::getenv("CTNN_MNIST_DIR")) {
        torch::data::datasets::MNIST test(dir, torch::data::datasets::MNIST::Mode::kTest);
        auto digit = test.get(0).data.reshape({1, 784}).contiguous();
        seconds = bench::median_seconds([&] { run(digit); }, 100, 5000);
        bench::report("mlp_infer_b1_mnist", seconds * 1e6, "us");
    }
}

void dense_forward_backward() {
    torch::nn::Linear dense(784, 250);
    auto x = torch::rand({512, 784}, torch::requires_grad());
    auto dy = torch::rand({512, 250});
    double seconds = bench::median_seconds(
        [&] {
            dense->zero_grad();
            x.mutable_grad() = torch::Tensor();
            dense(x).backward(dy);
        },
        10, 200);
    bench::report("dense_fwd_bwd_b512", 3.0 * 2.0 * 512 * 784 * 250 / seconds * 1e-9, "GFLOPS");
}

} // namespace

int main() {
    torch::manual_seed(1);
    torch::set_num_threads(2);
    std::printf("CONFIG libtorch %d.%d.%d: %d threads\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                TORCH_VERSION_PATCH, torch::get_num_threads());
    train(512);
    train(64);
    infer();
    dense_forward_backward();
}
