// Run by mpirun (tests/CMakeLists.txt): data-parallel fit over the processes
// against a single-process fit at the global batch, which rank 0 runs too.
//   data_parallel equivalence   the MLP (dropout, L2, Adam) and a CNN with
//                               BatchNorm, synchronised and not; the MLP
//                               on a stream (data/stream.hpp); a siamese
//                               network whose shared branch drops out
//   data_parallel resume        a checkpoint written by a data-parallel run
//                               resumes on one process, and one written by
//                               one process resumes data-parallel
//   data_parallel throw         rank 0 fails mid-training: every process ends
//   data_parallel die           rank 1 is killed mid-training: the job ends
// Exits non-zero on a mismatch.
#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/distributed/mpi.hpp>
#include <ctnn/io/save.hpp>

#include "distributed/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace {

using ctnn::testing::three_classes;

using Mlp = ctnn::Sequential<ctnn::Input<12>, ctnn::Dense<16>, ctnn::Tanh, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;
using Cnn = ctnn::Sequential<ctnn::Input<1, 8, 8>, ctnn::GaussianNoise, ctnn::Conv2D<4, 3>, ctnn::BatchNorm,
                             ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>, ctnn::Softmax>;

// Two inputs through one shared branch with a Dropout: each process draws
// the masks of its rows where one process would (LayerCall::rows_per_sample).
using Siamese = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<6>, ctnn::Shape<6>>,
                                 ctnn::Shared<ctnn::Dense<8>, ctnn::Tanh, ctnn::Dropout>, ctnn::Concatenate,
                                 ctnn::Dense<3>, ctnn::Softmax>;

int failures = 0;

void expect_close(const char* what, const std::vector<float>& got,
                  const std::vector<float>& want, float tolerance) {
    float worst = 0.0f;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0f, std::abs(want[i])));
    const bool ok = got.size() == want.size() && worst <= tolerance;
    std::printf("%s %s: largest relative difference %.3g (tolerance %.1g)\n", ok ? "ok  " : "FAIL", what,
                double(worst), double(tolerance));
    if (!ok) ++failures;
}

// Every process ends with rank 0's parameters, bit for bit.
void expect_replicas(const ctnn::dist::Mpi& mpi, const char* what, std::vector<float> mine) {
    std::vector<float> root = mine;
    mpi.broadcast(root.data(), root.size(), 0);
    double differs = std::memcmp(root.data(), mine.data(), mine.size() * sizeof(float)) != 0 ? 1.0 : 0.0;
    mpi.host_all_reduce_sum(&differs, 1);
    if (mpi.rank() == 0) {
        std::printf("%s %s: every process holds rank 0's values\n", differs == 0.0 ? "ok  " : "FAIL", what);
        if (differs != 0.0) ++failures;
    }
}

// Tolerance: the processes add their gradients in another order than one
// process adds the samples' (and the figures), so floats differ in their
// last bits (seen: 6e-8 relative); 1e-4 is far below what a wrong shard,
// mask or scale gives (1e-2 and more). The CNN trains with SGD: its
// convolution's bias gradient is zero up to rounding (BatchNorm follows),
// and Adam divides such noise by its own size, so its steps there are
// +-learning rate either way (seen: 3e-3 apart after 12 steps).
template <class Net, class Opt, class... Layers>
void compare(const ctnn::dist::Mpi& mpi, const char* what, Opt optimizer, const ctnn::data::Dataset& train,
             const ctnn::data::Dataset& validation, bool sync, Layers... layers) {
    const std::size_t per_process = 16;
    ctnn::FitOptions options{.epochs = 3, .batch_size = per_process, .validation = validation, .seed = 5,
                             .verbosity = ctnn::Verbosity::silent};
    Net parallel{ctnn::Seed{7 + std::uint64_t(mpi.rank())}, layers...};  // rank 0's weights win
    options.distributed = {&mpi, sync};
    const auto history = ctnn::fit(parallel, Opt(optimizer), ctnn::CategoricalCrossEntropy{}, train, options);
    expect_replicas(mpi, what, parallel.host_parameters());
    if (mpi.rank() != 0) return;
    Net single{ctnn::Seed{7}, layers...};
    options.distributed = {};
    options.batch_size = per_process * std::size_t(mpi.size());
    const auto reference = ctnn::fit(single, Opt(optimizer), ctnn::CategoricalCrossEntropy{}, train, options);
    expect_close(what, parallel.host_parameters(), single.host_parameters(), 1e-4f);
    std::vector<float> figures, want;
    for (std::size_t e = 0; e < history.epochs.size(); ++e) {
        figures.insert(figures.end(), {history.epochs[e].loss, history.epochs[e].accuracy,
                                       history.epochs[e].val_loss, history.epochs[e].val_accuracy});
        want.insert(want.end(), {reference.epochs[e].loss, reference.epochs[e].accuracy,
                                 reference.epochs[e].val_loss, reference.epochs[e].val_accuracy});
    }
    expect_close((std::string(what) + ", history").c_str(), figures, want, 1e-4f);
    if (sync || Net::state_count == 0)
        expect_close((std::string(what) + ", running statistics").c_str(), parallel.host_state(),
                     single.host_state(), 1e-4f);
}

// On a stream every process draws each global batch and keeps its shard, so
// the run is the single-process one at the global batch, as on a data set.
void compare_streamed(const ctnn::dist::Mpi& mpi, const ctnn::data::Dataset& train) {
    // Sample i of epoch e: a row of `train`, in another order each epoch.
    const auto replay = [&](std::uint64_t epoch, std::size_t i, float* x, float* t) {
        const std::size_t row = (i * 7 + epoch * 13) % train.size();
        std::copy_n(&train.inputs(row, 0), train.input_width(), x);
        t[0] = train.targets(row, 0);
    };
    const std::size_t per_process = 16;
    ctnn::FitOptions options{.epochs = 3, .batch_size = per_process, .seed = 5, .verbosity = ctnn::Verbosity::silent,
                             .distributed = {&mpi}};
    ctnn::data::GeneratedStream stream(train.size(), train.input_width(), train.target_width(), replay);
    Mlp parallel{ctnn::Seed{7 + std::uint64_t(mpi.rank())}, ctnn::Dropout{0.3f}};
    ctnn::fit(parallel, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, stream, options);
    expect_replicas(mpi, "MLP on a stream", parallel.host_parameters());
    if (mpi.rank() != 0) return;
    ctnn::data::GeneratedStream same(train.size(), train.input_width(), train.target_width(), replay);
    Mlp single{ctnn::Seed{7}, ctnn::Dropout{0.3f}};
    options.distributed = {};
    options.batch_size = per_process * std::size_t(mpi.size());
    ctnn::fit(single, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, same, options);
    expect_close("MLP on a stream", parallel.host_parameters(), single.host_parameters(), 1e-4f);
}

// Resuming at another process count. The data order of an epoch is the
// seed's, whatever the count; what the count changes is the global batch
// (batch_size per process). Here the global batch is kept (16 per process on
// `size` processes, 16 * size on one), so a resumed run must end where the
// uninterrupted one does: the checkpoint's weights, Adam's moments and step
// count, and the epoch to go on from are all it needs.
void resume(const ctnn::dist::Mpi& mpi, const ctnn::data::Dataset& train) {
    const std::size_t per_process = 16, global = per_process * std::size_t(mpi.size());
    const auto options = [&](std::size_t epochs, std::size_t batch, bool distributed) {
        return ctnn::FitOptions{.epochs = epochs, .batch_size = batch, .seed = 5,
                                .verbosity = ctnn::Verbosity::silent,
                                .distributed = {distributed ? &mpi : nullptr}};
    };
    const ctnn::CategoricalCrossEntropy loss;
    const ctnn::Dropout dropout{0.3f};
    const ctnn::testing::TempDir folder("ctnn-mpi-resume-" + std::to_string(mpi.rank()));
    const auto checkpoint = folder / "after_two_epochs.h5";

    // Data-parallel, stopped after 2 epochs, resumed by one process.
    Mlp uninterrupted{ctnn::Seed{7}, dropout};
    ctnn::fit(uninterrupted, ctnn::Adam{0.01f}, loss, train, options(3, per_process, true));
    {
        Mlp first{ctnn::Seed{7}, dropout};
        ctnn::Adam adam{0.01f};
        auto two = options(2, per_process, true);
        two.on_epoch_end.push_back([&](std::size_t epoch, const ctnn::EpochRecord&) {
            if (epoch == 1) ctnn::save_checkpoint(checkpoint, first, adam, epoch + 1);
        });
        ctnn::fit(first, adam, loss, train, two);
    }
    if (mpi.rank() == 0) {
        Mlp resumed{ctnn::Seed{99}, dropout};
        ctnn::Adam adam{0.5f};
        auto rest = options(3, global, false);
        rest.initial_epoch = ctnn::load_checkpoint(checkpoint, resumed, adam);
        ctnn::fit(resumed, adam, loss, train, rest);
        expect_close("resumed on one process after 2 epochs on all", resumed.host_parameters(),
                     uninterrupted.host_parameters(), 1e-4f);
    }

    // One process, stopped after 2 epochs, resumed data-parallel: only rank
    // 0 reads the checkpoint; fit gives every process its state.
    std::vector<float> want;
    if (mpi.rank() == 0) {
        Mlp single{ctnn::Seed{7}, dropout};
        ctnn::fit(single, ctnn::Adam{0.01f}, loss, train, options(3, global, false));
        want = single.host_parameters();
        Mlp first{ctnn::Seed{7}, dropout};
        ctnn::Adam adam{0.01f};
        ctnn::fit(first, adam, loss, train, options(2, global, false));
        ctnn::save_checkpoint(checkpoint, first, adam, 2);
    }
    Mlp resumed{ctnn::Seed{99 + std::uint64_t(mpi.rank())}, dropout};
    ctnn::Adam adam{0.5f};
    auto rest = options(3, per_process, true);
    if (mpi.rank() == 0) rest.initial_epoch = ctnn::load_checkpoint(checkpoint, resumed, adam);
    ctnn::fit(resumed, adam, loss, train, rest);
    expect_replicas(mpi, "resumed on every process: parameters", resumed.host_parameters());
    if (mpi.rank() == 0)
        expect_close("resumed on every process after 2 epochs on one", resumed.host_parameters(), want, 1e-4f);
}

} // namespace

int main(int argc, char** argv) {
    ctnn::dist::Mpi mpi(argc, argv);
    const std::string mode = argc > 1 ? argv[1] : "equivalence";
    // 100 samples: global batches of 32 leave a short last one of 4.
    const auto train = three_classes(100, 12, 1), validation = three_classes(37, 12, 2);
    if (mode == "equivalence") {
        compare<Mlp>(mpi, "MLP with dropout", ctnn::Adam{0.01f}, train, validation, false, ctnn::Dropout{0.3f});
        compare_streamed(mpi, train);
        // The same rows as two inputs of 6 features each.
        compare<Siamese>(mpi, "siamese, shared branch with dropout", ctnn::Adam{0.01f}, train, validation, false,
                         ctnn::Dropout{0.3f});
        const auto images = three_classes(100, 64, 3), image_validation = three_classes(37, 64, 4);
        compare<Cnn>(mpi, "CNN, synchronised BatchNorm", ctnn::SGD{0.05f, 0.9f}, images, image_validation, true);
        // Per-process statistics: the same weights as one process only
        // approximately, so only that every process agrees is checked.
        Cnn cnn{ctnn::Seed{7}};
        ctnn::fit(cnn, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, images,
                  {.epochs = 2, .batch_size = 16, .seed = 5, .verbosity = ctnn::Verbosity::silent,
                   .distributed = {&mpi}});
        expect_replicas(mpi, "CNN, per-process BatchNorm: parameters", cnn.host_parameters());
        expect_replicas(mpi, "CNN, per-process BatchNorm: averaged running statistics", cnn.host_state());
        return failures == 0 ? 0 : 1;
    }
    if (mode == "resume") {
        resume(mpi, train);
        return failures == 0 ? 0 : 1;
    }
    if (mode == "throw") {
        Mlp net{ctnn::Seed{7}};
        ctnn::FitOptions options{.epochs = 1000, .batch_size = 4, .seed = 5, .verbosity = ctnn::Verbosity::silent,
                                 .distributed = {&mpi}};
        options.on_epoch_end.push_back([](std::size_t epoch, const ctnn::EpochRecord&) {
            if (epoch == 2) throw std::runtime_error("disk full while writing the checkpoint (a test)");
        });
        ctnn::fit(net, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, train, options);
        std::printf("FAIL: the job went on\n");
        return 1;
    }
    if (mode == "die") {
        Mlp net{ctnn::Seed{7}};
        ctnn::FitOptions options{.epochs = 1000, .batch_size = 4, .seed = 5, .verbosity = ctnn::Verbosity::silent,
                                 .distributed = {&mpi}};
        const int rank = mpi.rank();
        options.learning_rate_schedule = [rank](std::size_t epoch, float rate) {
            if (epoch == 2 && rank == 1) std::raise(SIGKILL);
            return rate;
        };
        ctnn::fit(net, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, train, options);
        std::printf("FAIL: the job went on\n");
        return 1;
    }
    std::fprintf(stderr, "data_parallel: unknown mode %s\n", mode.c_str());
    return 2;
}
