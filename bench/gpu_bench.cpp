// ctnn's side of bench/gpu: the seed models trained and run on a device
// backend, on synthetic data, with the workloads and batch sizes of
// bench/gpu_torch.py, so that the two print comparable RESULT lines.
//
//   gpu_bench [--backend cuda|thrust-host] [--smoke]
//
// cuda is the default where this program was built with nvcc and a device is
// present; thrust-host runs the same kernels by OpenMP (what --smoke checks
// in CI). --smoke runs every workload end to end with a handful of steps.
//
// Training figures are samples per second of whole steps (forward, loss,
// backward, optimizer update) timed over a run of steps that ends with a
// wait for the device; batch-1 figures are the latency of one call from host
// input to host output, eager (every layer launched) and as one captured
// graph (InferenceGraph).
#if !defined(CTNN_BENCH_CUDA_PART)
#include <ctnn/backend/thrust/host.hpp>
#endif
#include <ctnn/ctnn.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "timing.hpp"

namespace gpu_bench {

using namespace ctnn;

struct Sizes {
    bool smoke = false;
    // Timed steps per repeat, and repeats (the figure is their median).
    int steps(int full) const { return smoke ? 2 : full; }
    int repeats() const { return smoke ? 1 : 5; }
};

using Mlp = Sequential<Input<784>, Dense<250>, Tanh, Dropout, Dense<10>, Softmax>;
using SeedCnn = Sequential<Input<1, 28, 28>, GaussianNoise, Conv2D<45, 5>, ReLU, MaxPool2D<2>,
                           Conv2D<60, 5>, ReLU, MaxPool2D<2>, Flatten, Dense<10>, Softmax>;
using CifarCnn = Sequential<Input<3, 32, 32>, Conv2D<32, 5, 1, 2>, ReLU, MaxPool2D<2>,
                            Conv2D<64, 5, 1, 2>, ReLU, MaxPool2D<2>, Conv2D<128, 5, 1, 2>, ReLU,
                            MaxPool2D<2>, Flatten, Dense<64>, ReLU, Dense<10>, Softmax>;
using Adder = Sequential<Input<7, 12>, LSTM<128>, RepeatVector<3>, LSTM<128, true>,
                         TimeDistributed<Dense<12>>, Softmax>;

// Synthetic inputs in [0, 1) (one-hot characters for the adder) and class
// labels, `labels_per_sample` per sample.
struct Synthetic {
    std::vector<float> inputs, labels;
};
template <class Net>
Synthetic synthetic(std::size_t batch, std::size_t labels_per_sample, std::size_t classes, bool one_hot) {
    Rng rng(7);
    constexpr std::size_t in = Net::input_shape::size;
    Synthetic data{std::vector<float>(batch * in, 0.0f), std::vector<float>(batch * labels_per_sample)};
    if (one_hot) {
        constexpr std::size_t width = Net::input_shape::dims[Net::input_shape::rank - 1];
        for (std::size_t row = 0; row < batch * in / width; ++row) data.inputs[row * width + rng.below(width)] = 1.0f;
    } else {
        for (float& x : data.inputs) x = rng.uniform();
    }
    for (float& y : data.labels) y = float(rng.below(classes));
    return data;
}

// Samples per second of fit's own steps on one batch resident in device
// memory: uncaptured (detail::train_step, which reads the loss back every
// step) as <key>, and replayed as one captured graph per step
// (detail::CapturedSteps, what fit runs on such a backend) as <key>_graph.
template <class Net, class Optimizer>
void train(const char* key, const Net& initial, const Optimizer& optimizer, std::size_t batch,
           std::size_t labels_per_sample, std::size_t classes, bool one_hot, int steps, const Sizes& sizes) {
    const Synthetic data = synthetic<Net>(batch, labels_per_sample, classes, one_hot);
    CategoricalCrossEntropy loss;
    auto measure = [&](const std::string& name, bool captured) {
        Net net = initial;
        Optimizer stepper = optimizer;
        const auto& device = net.backend();
        typename Net::backend_type::template buffer<float> inputs, labels;
        inputs.resize(data.inputs.size());
        labels.resize(data.labels.size());
        device.to_device(data.inputs.data(), inputs.data(), inputs.size());
        device.to_device(data.labels.data(), labels.data(), labels.size());
        net.reserve(batch);
        Context context{Mode::training, 3, 0, 0};
        detail::CapturedSteps graphs(net, stepper, loss, labels_per_sample);
        graphs.begin_epoch(context);
            auto run = [&] {
            for (int s = 0; s < steps; ++s) {
                if (captured) {
                    graphs.step(inputs.data(), labels.data(), batch);
                } else {
                    detail::train_step(net, stepper, loss, context, inputs.data(), labels.data(), batch,
                                       labels_per_sample, true);
                    ++context.step;
                }
            }
            device.synchronize();
        };
        const double seconds = bench::median_seconds(run, 1, sizes.repeats());
        bench::report(name.c_str(), double(batch) * steps / seconds, "samples/s");
    };
    measure(key, false);
    measure(std::string(key) + "_graph", true);
}

// Batch-1 latency, host to host: forward() with its copies, and the same
// pass as one captured graph.
template <class Net>
void infer(const char* key, const Sizes& sizes) {
    Net net{Seed{1}};
    const auto& device = net.backend();
    constexpr std::size_t in = Net::input_shape::size, out = Net::output_shape::size;
    const Synthetic data = synthetic<Net>(1, 1, 10, false);
    typename Net::backend_type::template host_buffer<float> staged_in, staged_out;
    staged_in.resize(in);
    staged_out.resize(out);
    std::copy(data.inputs.begin(), data.inputs.end(), staged_in.data());
    typename Net::backend_type::template buffer<float> x;
    x.resize(in);
    net.reserve(1);
    const int calls = sizes.steps(2000);
    auto eager = [&] {
        for (int c = 0; c < calls; ++c) {
            device.to_device(staged_in.data(), x.data(), in);
            auto y = net.forward({x.data(), in}, 1);
            device.to_host(y.data(), staged_out.data(), out);
        }
    };
    bench::report(key, bench::median_seconds(eager, 1, sizes.repeats()) / calls * 1e6, "us");

    InferenceGraph graph(net, 1);
    auto replayed = [&] {
        for (int c = 0; c < calls; ++c) graph.run({data.inputs.data(), in});
    };
    const std::string graph_key = std::string(key) + "_graph";
    bench::report(graph_key.c_str(), bench::median_seconds(replayed, 1, sizes.repeats()) / calls * 1e6, "us");
}

template <class Backend>
void run_all(const Sizes& sizes) {
    std::printf("CONFIG ctnn: backend %s\n", std::string(Backend::name).c_str());
    using seed_cnn = typename SeedCnn::template on<Backend>;
    using cifar_cnn = typename CifarCnn::template on<Backend>;
    using adder = typename Adder::template on<Backend>;
    using mlp = typename Mlp::template on<Backend>;
    train("cnn_train_b128", seed_cnn{GaussianNoise{0.1f}, Seed{1}}, RMSprop{1e-3f}, 128, 1, 10, false,
          sizes.steps(50), sizes);
    train("cifar_cnn_train_b64", cifar_cnn{Seed{1}}, RMSprop{1e-3f}, 64, 1, 10, false, sizes.steps(50), sizes);
    train("lstm_addition_train_b512", adder{Seed{1}}, Adam{1e-3f}, 512, 3, 12, true, sizes.steps(50), sizes);
    train("mlp_train_b512", mlp{Dropout{0.5f}, Seed{1}}, RMSprop{1e-3f}, 512, 1, 10, false,
          sizes.steps(200), sizes);
    infer<mlp>("mlp_infer_b1", sizes);
    infer<seed_cnn>("cnn_infer_b1", sizes);
}

#if defined(CTNN_BENCH_CUDA_PART)
void run_on_cuda(const Sizes& sizes) { run_all<backend::Cuda>(sizes); }
#else
void run_on_cuda(const Sizes& sizes);
#endif

} // namespace gpu_bench

#if !defined(CTNN_BENCH_CUDA_PART)
int main(int argc, char** argv) {
    gpu_bench::Sizes sizes;
#if defined(CTNN_BENCH_CUDA)
    std::string backend = "cuda";
#else
    std::string backend = "thrust-host";
#endif
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            sizes.smoke = true;
        } else if (arg == "--backend" && i + 1 < argc) {
            backend = argv[++i];
        } else {
            std::fprintf(stderr, "usage: gpu_bench [--backend cuda|thrust-host] [--smoke]\n");
            return 2;
        }
    }
    try {
        if (backend == "thrust-host") {
            gpu_bench::run_all<ctnn::backend::ThrustHost>(sizes);
        } else if (backend == "cuda") {
#if defined(CTNN_BENCH_CUDA)
            gpu_bench::run_on_cuda(sizes);
#else
            std::fprintf(stderr, "gpu_bench: built without CUDA (configure with -DCTNN_CUDA=ON); "
                                 "--backend thrust-host runs the same kernels on the CPU\n");
            return 2;
#endif
        } else {
            std::fprintf(stderr, "gpu_bench: unknown backend %s (cuda or thrust-host)\n", backend.c_str());
            return 2;
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "gpu_bench: %s\n", error.what());
        return 1;
    }
}
#endif
