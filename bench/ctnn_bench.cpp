// ctnn's side of the comparison: the MLP of seed 001 (784-250-10, tanh,
// dropout, softmax cross-entropy, RMSprop) trained and run on synthetic data,
// a Dense layer's forward+backward against the sgemm peak, and heap
// allocations in the steady state; the seed CNNs' and the LSTM adder's
// training steps; with --time-to-accuracy, the time to a test accuracy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "harness.hpp"
#include "seed_models.hpp"

namespace {

using bench::Adder, bench::CifarCnn, bench::FashionCnn, bench::Mlp, bench::SeedCnn;

struct Batch {
    std::vector<float> inputs, labels;
};

Batch synthetic(std::size_t n, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    Batch b{std::vector<float>(n * 784), std::vector<float>(n)};
    for (float& x : b.inputs) x = rng.uniform();
    for (float& y : b.labels) y = float(rng.below(10));
    return b;
}

// One training step of the MLP at a batch size, on synthetic data.
class MlpTraining {
public:
    explicit MlpTraining(std::size_t batch_size) : batch_size_(batch_size), data_(synthetic(batch_size, 2)) {}
    void operator()() {
        ctnn::detail::train_step(net_, optimizer_, loss_, context_, data_.inputs.data(), data_.labels.data(),
                                 batch_size_, 1);
        ++context_.step;
    }

private:
    std::size_t batch_size_;
    Batch data_;
    Mlp net_{ctnn::Dropout{0.5f}, ctnn::Seed{1}};
    ctnn::RMSprop optimizer_{1e-3f};
    ctnn::CategoricalCrossEntropy loss_;
    ctnn::Context context_{ctnn::Mode::training, 3, 0, 0};
};

void train(std::size_t batch_size) {
    MlpTraining step(batch_size);
    bench::report_training(batch_size, step, 20, batch_size >= 512 ? 200 : 1000);
}

// bench/contention: the MLP's training throughput over `seconds`, and the
// share of steps that core sharing ran on one thread (what it costs a
// training alone, free of the host's drift).
void train_for(std::size_t batch_size, double seconds) {
    MlpTraining train(batch_size);
    double steps = 0, on_one_thread = 0;
    auto step = [&] {
        train();
        ++steps;
        on_one_thread += ctnn::backend::cpu::CoreSharing::instance().threads() == 1;
    };
    const std::string key = "mlp_train_for_b" + std::to_string(batch_size);
    bench::report(key.c_str(), double(batch_size) * bench::calls_per_second(step, seconds), "samples/s");
    bench::report((key + "_steps_on_one_thread").c_str(), 100.0 * on_one_thread / steps, "%");
}

void infer() {
    Mlp net{ctnn::Seed{1}};
    Batch one = synthetic(1, 4), many = synthetic(256, 5);
    double seconds = bench::median_seconds([&] { net.forward(one.inputs, 1); }, 100, 5000);
    bench::report("mlp_infer_b1", seconds * 1e6, "us");
    seconds = bench::median_seconds([&] { net.forward(many.inputs, 256); }, 20, 500);
    bench::report("mlp_infer_b256", 256.0 / seconds, "samples/s");
    bench::report("allocations_per_inference",
                  bench::allocations_per_call([&] { net.forward(one.inputs, 1); }), "count");
    // A real digit: about four pixels in five are blank, and the batch-1
    // kernel skips their weight rows.
    if (const char* dir = std::getenv("CTNN_MNIST_DIR")) {
        auto test = ctnn::data::load_mnist(dir).test;
        std::span<const float> digit(test.inputs.data(), 784);
        seconds = bench::median_seconds([&] { net.forward(digit, 1); }, 100, 5000);
        bench::report("mlp_infer_b1_mnist", seconds * 1e6, "us");
    }
}

// The layer alone, with its input gradient, as a hidden layer runs, timed in
// alternation with a 1024^3 sgemm (the peak), so that drift of the host's
// speed hits both figures alike.
void dense_against_peak() {
    constexpr std::size_t batch = 512, in = 784, out = 250, n = 1024;
    const ctnn::backend::Cpu cpu;
    ctnn::Dense<out>::impl<ctnn::Shape<in>, ctnn::backend::Cpu> dense(ctnn::Dense<out>{});
    ctnn::Rng rng(6);
    std::vector<float> params(in * out + out), grads(params.size()), x(batch * in), y(batch * out),
        dy(batch * out), dx(batch * in), a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
    for (float& v : params) v = rng.uniform(-0.1f, 0.1f);
    for (float& v : x) v = rng.uniform();
    for (float& v : dy) v = rng.uniform(-1.0f, 1.0f);
    ctnn::LayerCall<ctnn::backend::Cpu> call{cpu, {}, batch};
    call.params = params.data();
    call.grads = grads.data();
    auto layer = [&] {
        dense.forward(call, x.data(), y.data());
        dense.backward(call, x.data(), y.data(), dy.data(), dx.data());
    };
    auto sgemm = [&] {
        cpu.gemm(ctnn::Trans::no, ctnn::Trans::no, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                 c.data(), n);
    };
    std::vector<double> layer_seconds, sgemm_seconds;
    for (int round = 0; round < 25; ++round) {
        layer_seconds.push_back(bench::median_seconds(layer, round == 0 ? 5 : 0, 5));
        sgemm_seconds.push_back(bench::median_seconds(sgemm, round == 0 ? 2 : 0, 1));
    }
    auto median = [](std::vector<double> v) {
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    bench::report("sgemm_1024", 2.0 * n * n * n / median(sgemm_seconds) * 1e-9, "GFLOPS");
    bench::report("dense_fwd_bwd_b512", 3.0 * 2.0 * batch * in * out / median(layer_seconds) * 1e-9,
                  "GFLOPS");
}

template <class Net>
void train_cnn(const char* key, std::size_t batch_size, int repeats, ctnn::backend::Cpu cpu = {}) {
    Net net{ctnn::Seed{1}, cpu};
    ctnn::RMSprop optimizer{1e-3f};
    ctnn::CategoricalCrossEntropy loss;
    ctnn::Rng rng(7);
    std::vector<float> inputs(batch_size * Net::input_shape::size), labels(batch_size);
    for (float& x : inputs) x = rng.uniform();
    for (float& y : labels) y = float(rng.below(10));
    ctnn::Context context{ctnn::Mode::training, 3, 0, 0};
    double seconds = bench::median_seconds(
        [&] {
            ctnn::detail::train_step(net, optimizer, loss, context, inputs.data(), labels.data(),
                                     batch_size, 1);
            ++context.step;
        },
        3, repeats);
    bench::report(key, double(batch_size) / seconds, "samples/s");
}

void infer_cnn() {
    SeedCnn net{ctnn::Seed{1}};
    ctnn::Rng rng(8);
    std::vector<float> image(784);
    for (float& x : image) x = rng.uniform();
    double seconds = bench::median_seconds([&] { net.forward(image, 1); }, 50, 2000);
    bench::report("cnn_infer_b1", seconds * 1e6, "us");
}

void train_lstm_addition() {
    constexpr std::size_t batch_size = 512;
    Adder net{ctnn::Seed{1}};
    ctnn::Adam optimizer{1e-3f};
    ctnn::CategoricalCrossEntropy loss;
    ctnn::Rng rng(9);
    std::vector<float> inputs(batch_size * 7 * 12, 0.0f), labels(batch_size * 3);
    for (std::size_t i = 0; i < batch_size * 7; ++i) inputs[i * 12 + rng.below(12)] = 1.0f;
    for (float& y : labels) y = float(rng.below(12));
    ctnn::Context context{ctnn::Mode::training, 3, 0, 0};
    auto step = [&] {
        ctnn::detail::train_step(net, optimizer, loss, context, inputs.data(), labels.data(),
                                 batch_size, 3);
        ++context.step;
    };
    double seconds = bench::median_seconds(step, 5, 40);
    bench::report("lstm_addition_train_b512", double(batch_size) / seconds, "samples/s");
}

// bench/time_to_accuracy: a model trained on MNIST as its example trains it,
// the test set scored after every epoch; reports the wall time from the first
// step to the end of the first epoch whose test accuracy reaches `target`
// (test passes included: libtorch's side scores the same set as often).
template <class Net, class Optimizer>
void time_to_accuracy(const std::string& key, Net& net, Optimizer optimizer, const ctnn::data::TrainTest& mnist,
                      std::size_t epochs, std::size_t batch_size, float rate, float target) {
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0.0, best = 0.0;
    std::size_t reached = 0;
    ctnn::fit(net, optimizer, ctnn::CategoricalCrossEntropy{}, mnist.train,
              {.epochs = epochs, .batch_size = batch_size, .validation = mnist.test, .seed = 42,
               .learning_rate_schedule = ctnn::cosine_decay(rate, epochs), .verbosity = ctnn::Verbosity::lines,
               .stop_when = [&](std::size_t epoch, const ctnn::EpochRecord& record) {
                   best = std::max(best, double(record.val_accuracy));
                   if (record.val_accuracy < target) return false;
                   seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                   reached = epoch + 1;
                   return true;
               }});
    bench::report((key + "_best_accuracy").c_str(), 100.0 * best, "%");
    if (!reached) {
        std::printf("CONFIG ctnn: %s did not reach %.2f%% in %zu epochs\n", key.c_str(), 100.0 * target, epochs);
        return;
    }
    bench::report(key.c_str(), seconds, "s");
    bench::report((key + "_epochs").c_str(), double(reached), "epochs");
}

// Seed 003's CNN as examples/mnist_cnn.cpp trains it (to 99.1%), in float
// and, where the CPU has it, in bf16; seed 001's MLP as examples/mnist_mlp.cpp
// (to 98.2%).
void times_to_accuracy(const char* which) {
    const char* dir = std::getenv("CTNN_MNIST_DIR");
    if (!dir) throw std::runtime_error("--time-to-accuracy: set CTNN_MNIST_DIR to the MNIST files");
    const auto mnist = ctnn::data::load_mnist(dir);
    const auto cnn = [&](const std::string& key, ctnn::backend::Cpu cpu) {
        SeedCnn net{ctnn::GaussianNoise{0.1f}, ctnn::Conv2D<45, 5>{.l2 = 0.001f}, ctnn::Seed{42}, cpu};
        time_to_accuracy(key, net, ctnn::RMSprop{1e-3f}, mnist, 12, 128, 1e-3f, 0.991f);
    };
    if (std::string(which) == "cnn") {
        cnn("tta_cnn_991", {});
        if (ctnn::backend::cpu::bf16::supported())
            cnn("tta_cnn_991_bf16", ctnn::backend::Cpu{ctnn::backend::Precision::bf16});
    } else if (std::string(which) == "mlp") {
        Mlp net{ctnn::Dropout{0.5f}, ctnn::Seed{42}};
        time_to_accuracy("tta_mlp_982", net, ctnn::RMSprop{5e-3f}, mnist, 150, 512, 5e-3f, 0.982f);
    } else {
        throw std::invalid_argument(std::string("--time-to-accuracy ") + which + ": not cnn or mlp");
    }
}

} // namespace

int main(int argc, char** argv) try {
    if (argc == 4 && std::string(argv[1]) == "--train-for") {
        train_for(std::size_t(std::atoi(argv[2])), std::atof(argv[3]));  // batch size, seconds
        return 0;
    }
    if (argc == 3 && std::string(argv[1]) == "--time-to-accuracy") {
        times_to_accuracy(argv[2]);
        return 0;
    }
    const auto& blas = ctnn::backend::cpu::blas_info();
    std::printf("CONFIG ctnn: OpenBLAS %s kernel, %s, %d threads (%s)\n", blas.core.c_str(),
                blas.threading.c_str(), blas.threads, blas.library.c_str());
    namespace direct = ctnn::backend::cpu::direct;
    if (direct::enabled && direct::switched_on())
        std::printf("CONFIG ctnn: float stride-1 convolutions on its own %s kernels, forward "
                    "(backend/cpu/direct_convolution.hpp) and backward with filters or channels across the lanes "
                    "(backend/cpu/lanes_backward.hpp); 3x3 and 5x5 ones with 16 channels or more, both passes as "
                    "Winograd F(2x2, 3x3) or F(2x2, 5x5) (backend/cpu/winograd.hpp, winograd_backward.hpp)\n",
                    direct::instruction_set);
    else
        std::printf("CONFIG ctnn: convolutions as im2col + sgemm (%s)\n",
                    direct::enabled ? "CTNN_DIRECT_CONVOLUTION=0" : "built without AVX2 or AVX-512");
    dense_against_peak();
    train(512);
    train(64);
    infer();
    train_cnn<SeedCnn>("cnn_train_b128", 128, 30);
    infer_cnn();
    train_cnn<CifarCnn>("cifar_cnn_train_b64", 64, 20);
    train_cnn<FashionCnn>("fashion_cnn_train_b128", 128, 20);
    train_lstm_addition();
    // The opt-in mixed precision (Precision::bf16) where the CPU has it.
    namespace bf16 = ctnn::backend::cpu::bf16;
    if (!bf16::supported()) {
        std::printf("CONFIG ctnn: no AMX or AVX512-BF16 here: no bf16 rows\n");
        return 0;
    }
    std::printf("CONFIG ctnn: bf16 rows on the %s kernel\n", bf16::kernel_name(bf16::kernel()));
    const ctnn::backend::Cpu mixed{ctnn::backend::Precision::bf16};
    train_cnn<SeedCnn>("cnn_train_b128_bf16", 128, 30, mixed);
    train_cnn<CifarCnn>("cifar_cnn_train_b64_bf16", 64, 20, mixed);
    train_cnn<FashionCnn>("fashion_cnn_train_b128_bf16", 128, 20, mixed);
    return 0;
} catch (const std::exception& error) {
    std::fprintf(stderr, "ctnn_bench: %s\n", error.what());
    return 1;
}
