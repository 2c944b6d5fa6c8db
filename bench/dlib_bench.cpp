// dlib's side of the comparison: the same MLP (784-250-10, tanh, dropout 0.5,
// softmax cross-entropy) with dlib's DNN module. dlib has no RMSprop; its Adam
// solver does comparable work per step.
#include <dlib/data_io.h>
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "harness.hpp"

namespace {

using Mlp = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::dropout<dlib::htan<dlib::fc<250, dlib::input<dlib::matrix<float>>>>>>>;

std::vector<dlib::matrix<float>> synthetic_inputs(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<dlib::matrix<float>> inputs(n, dlib::matrix<float>(784, 1));
    for (auto& x : inputs)
        for (long i = 0; i < 784; ++i) x(i) = uniform(rng);
    return inputs;
}

void train(std::size_t batch_size) {
    Mlp net;
    dlib::dnn_trainer<Mlp, dlib::adam> trainer(net, dlib::adam(0.0f, 0.9f, 0.999f));
    trainer.set_learning_rate(1e-3);
    trainer.be_quiet();
    auto inputs = synthetic_inputs(batch_size, 1);
    std::vector<unsigned long> labels(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i) labels[i] = i % 10;
    auto step = [&] {
        trainer.train_one_step(inputs.begin(), inputs.end(), labels.begin());
        trainer.get_net(dlib::force_flush_to_disk::no);  // waits for the step to finish
    };
    bench::report_training(batch_size, step, 10, batch_size >= 512 ? 50 : 200);
}

void infer() {
    Mlp net;
    dlib::softmax<Mlp::subnet_type> probabilities;
    probabilities.subnet() = net.subnet();
    auto one = synthetic_inputs(1, 2), many = synthetic_inputs(256, 3);
    double seconds = bench::median_seconds([&] { probabilities(one[0]); }, 100, 2000);
    bench::report("mlp_infer_b1", seconds * 1e6, "us");
    seconds = bench::median_seconds([&] { probabilities(many.begin(), many.end()); }, 5, 100);
    bench::report("mlp_infer_b256", 256.0 / seconds, "samples/s");
    bench::report("allocations_per_inference",
                  bench::allocations_per_call([&] { probabilities(one[0]); }), "count");
    if (const char* dir = std::getenv("CTNN_MNIST_DIR")) {
        std::vector<dlib::matrix<unsigned char>> train_images, test_images;
        std::vector<unsigned long> train_labels, test_labels;
        dlib::load_mnist_dataset(dir, train_images, train_labels, test_images, test_labels);
        dlib::matrix<float> digit = dlib::reshape(dlib::matrix_cast<float>(test_images[0]) / 255.0f, 784, 1);
        seconds = bench::median_seconds([&] { probabilities(digit); }, 100, 2000);
        bench::report("mlp_infer_b1_mnist", seconds * 1e6, "us");
    }
}

} // namespace

int main() {
    std::printf("CONFIG dlib %d.%d: DNN module on its linked BLAS\n", DLIB_MAJOR_VERSION,
                DLIB_MINOR_VERSION);
    train(512);
    train(64);
    infer();
}
