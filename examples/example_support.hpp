// What every example shares: its command line (--device, --distributed),
// where its data is, and how it reports.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/plot.hpp>

#if defined(CTNN_EXAMPLE_CUDA_PART)
#include <ctnn/backend/cuda/backend.hpp>
#elif defined(CTNN_EXAMPLE_THRUST)
#include <ctnn/backend/thrust/host.hpp>
#endif
#if defined(CTNN_EXAMPLE_MPI) && !defined(CTNN_EXAMPLE_CUDA_PART)
#include <ctnn/distributed/mpi.hpp>
#endif

#ifndef CTNN_EXAMPLE_DATA_DIR
#define CTNN_EXAMPLE_DATA_DIR "data"
#endif

// Which backend an example's network runs on: --device cpu (the default),
// thrust-host (the CUDA backend's kernels, run by OpenMP) or cuda.
enum class Device { cpu, thrust_host, cuda };

struct ExampleArgs {
    Device device = Device::cpu;
    bool distributed = false;             // --distributed: data-parallel over mpirun's processes
    std::vector<std::string> positional;  // the arguments that are not options, in order
};

inline ExampleArgs parse_example_args(int argc, char** argv) {
    ExampleArgs args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--distributed") {
            args.distributed = true;
            continue;
        }
        if (arg != "--device") {
            args.positional.emplace_back(arg);
            continue;
        }
        if (++i == argc) throw std::invalid_argument("--device needs a value: cpu, thrust-host or cuda");
        const std::string_view device = argv[i];
        if (device == "cpu") args.device = Device::cpu;
        else if (device == "thrust-host") args.device = Device::thrust_host;
        else if (device == "cuda") args.device = Device::cuda;
        else throw std::invalid_argument("--device " + std::string(device) + ": not cpu, thrust-host or cuda");
    }
    return args;
}

// The first positional argument, else $CTNN_DATA_DIR/<data_set>, else the
// folder scripts/setup fills (fixed at build time).
inline std::filesystem::path example_data_dir(const ExampleArgs& args, const char* data_set) {
    if (!args.positional.empty()) return args.positional.front();
    if (const char* root = std::getenv("CTNN_DATA_DIR")) return std::filesystem::path(root) / data_set;
    return std::filesystem::path(CTNN_EXAMPLE_DATA_DIR) / data_set;
}

// For the examples without --device: the first argument is the folder.
inline std::filesystem::path example_data_dir(int argc, char** argv, const char* data_set) {
    ExampleArgs args;
    if (argc > 1) args.positional.emplace_back(argv[1]);
    return example_data_dir(args, data_set);
}

inline void print_blas() {
    const auto& blas = ctnn::backend::cpu::blas_info();
    std::printf("BLAS: %s (%s kernel, %s, %d thread%s)\n", blas.library.c_str(), blas.core.c_str(),
                blas.threading.c_str(), blas.threads, blas.threads == 1 ? "" : "s");
}

// The CPU backend, with --bf16 in mixed precision: matrix products in bf16
// summed in float (backend/cpu/bf16_gemm.hpp); a CPU without AMX or
// AVX512-BF16 refuses it with a message.
inline ctnn::backend::Cpu cpu_backend(bool bf16) {
    if (!bf16) return {};
    ctnn::backend::Cpu cpu{ctnn::backend::Precision::bf16};
    std::printf("matrix products in bf16 (%s kernel), summed in float; weights and updates in float\n",
                ctnn::backend::cpu::bf16::kernel_name(ctnn::backend::cpu::bf16::kernel()));
    return cpu;
}

// The backend a network runs on, and on the host its BLAS.
template <class Net>
void print_backend(const Net& net) {
    using Backend = typename Net::backend_type;
    if constexpr (requires { net.backend().system().device_name(); })
        std::printf("backend: %s (%s)\n", std::string(Backend::name).c_str(),
                    net.backend().system().device_name().c_str());
    else {
        std::printf("backend: %s\n", std::string(Backend::name).c_str());
        print_blas();
    }
}

// The processes an example trains on: with --distributed, those mpirun
// started (dist::Mpi, CPU backends), else this one. Only the first prints
// and writes files; each trains on its share of every batch.
class Processes {
public:
    explicit Processes(const ExampleArgs& args) {
        if (!args.distributed) return;
#if defined(CTNN_EXAMPLE_MPI) && !defined(CTNN_EXAMPLE_CUDA_PART)
        mpi_.emplace();
#else
        throw std::invalid_argument(unsupported);
#endif
    }
    int rank() const { return communicator() ? communicator()->rank() : 0; }
    int size() const { return communicator() ? communicator()->size() : 1; }
    bool first() const { return rank() == 0; }
    // FitOptions::distributed.
    ctnn::dist::DataParallel data_parallel() const { return {communicator()}; }

private:
    static constexpr const char* unsupported =
        "--distributed: this build trains data-parallel on the CPU backends only, with MPI "
        "(openmpi-bin, libopenmpi-dev) found when it was configured; start it with mpirun -np N";
#if defined(CTNN_EXAMPLE_MPI) && !defined(CTNN_EXAMPLE_CUDA_PART)
    const ctnn::dist::Communicator* communicator() const { return mpi_ ? &*mpi_ : nullptr; }
    std::optional<ctnn::dist::Mpi> mpi_;
#else
    const ctnn::dist::Communicator* communicator() const { return nullptr; }
#endif
};

// The example's run<Backend>(args) for the backend --device names, as
// main(): CTNN_EXAMPLE_MAIN(run). The CUDA instantiation lives in the same
// source compiled again by nvcc (examples/CMakeLists.txt), where the macro
// defines run_example_on_cuda() instead of main(). A backend not compiled in
// is one line on stderr and exit status 2; an error (no GPU, a missing
// file) one line and 1.
int run_example_on_cuda(const ExampleArgs& args);

#if defined(CTNN_EXAMPLE_CUDA_PART)
#define CTNN_EXAMPLE_MAIN(run)                                                       \
    int run_example_on_cuda(const ExampleArgs& args) { return run<ctnn::backend::Cuda>(args); }
#else
template <class Run>
int run_example(int argc, char** argv, Run run) {
    try {
        const ExampleArgs args = parse_example_args(argc, argv);
        switch (args.device) {
        case Device::cpu: return run(std::type_identity<ctnn::backend::Cpu>{}, args);
        case Device::thrust_host:
#if defined(CTNN_EXAMPLE_THRUST)
            return run(std::type_identity<ctnn::backend::ThrustHost>{}, args);
#else
            std::cerr << "--device thrust-host: this build found no Thrust headers (install CUDA's "
                         "CCCL or Debian's libthrust-dev, then configure again)\n";
            return 2;
#endif
        case Device::cuda:
#if defined(CTNN_EXAMPLE_CUDA)
            return run_example_on_cuda(args);
#else
            std::cerr << "--device cuda: this build has no CUDA support (configure where nvcc and "
                         "cuBLAS are found)\n";
            return 2;
#endif
        }
        return 2;
    } catch (const std::exception& error) {
        std::cerr << error.what() << '\n';
        return 1;
    }
}

#define CTNN_EXAMPLE_MAIN(run)                                                                    \
    int main(int argc, char** argv) {                                                             \
        return run_example(argc, argv, [](auto backend, const ExampleArgs& args) {                \
            return run<typename decltype(backend)::type>(args);                                   \
        });                                                                                       \
    }
#endif

// Every plot twice: <stem>.png to look at, <stem>.svg to put in a report.
template <class Plot>
void plot_png_and_svg(const std::string& stem, Plot&& plot) {
    for (const char* extension : {".png", ".svg"}) plot(stem + extension);
}

// <name>_history.csv and its plot, <name>_history.png and .svg.
inline void write_history(const ctnn::History& history, const std::string& name) {
    history.write_csv(name + "_history.csv");
    plot_png_and_svg(name + "_history", [&](const std::string& file) {
        ctnn::plot::history(history, file, {.title = name + ": training history"});
    });
}

// The confusion matrix and classification report (and, given a name, its
// heatmap <name>_confusion.png and .svg), then the line every example ends
// with: "test accuracy: NN.NN%".
template <class Net>
void report_test_accuracy(Net& net, const ctnn::data::Dataset& test, const std::string& name = {}) {
    auto score = ctnn::evaluate(net, test);
    score.confusion.print(std::cout);
    if (!name.empty())
        plot_png_and_svg(name + "_confusion", [&](const std::string& file) {
            ctnn::plot::confusion_matrix(score.confusion, file,
                                         {.title = name + ": confusion matrix on the test set"});
        });
    std::printf("test loss: %.4f\ntest accuracy: %.2f%%\n", score.loss, 100.0 * score.accuracy);
}
