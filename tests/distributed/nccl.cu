// dist::Nccl on one GPU (NCCL refuses two processes on one GPU, so a machine
// with one GPU runs a world of one): its collectives on device memory, and
// data-parallel fit on the CUDA backend through it against plain fit. Run as
// a plain program (MPI starts as a singleton) or under mpirun with one
// process per GPU. Without a CUDA device it prints why and exits with 77,
// which CTest reports as skipped. Exits non-zero on a mismatch.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <ctnn/backend/cuda/backend.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/distributed/nccl.hpp>

#include "distributed/synthetic.hpp"
#include "support/cuda_device.hpp"

namespace {

using ctnn::testing::three_classes;

using Cuda = ctnn::backend::Cuda;
using Mlp = ctnn::Sequential<ctnn::Input<12>, ctnn::Dense<16>, ctnn::Tanh, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;
using Cnn = ctnn::Sequential<ctnn::Input<1, 8, 8>, ctnn::GaussianNoise, ctnn::Conv2D<4, 3>, ctnn::BatchNorm,
                             ctnn::ReLU, ctnn::MaxPool2D<2>, ctnn::Flatten, ctnn::Dense<3>, ctnn::Softmax>;

int failures = 0;

void expect_close(const char* what, const std::vector<float>& got, const std::vector<float>& want,
                  float tolerance) {
    float worst = got.size() == want.size() ? 0.0f : INFINITY;
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
        worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0f, std::abs(want[i])));
    const bool ok = worst <= tolerance;
    std::printf("%s %s: largest relative difference %.3g (tolerance %.1g)\n", ok ? "ok  " : "FAIL", what,
                double(worst), double(tolerance));
    if (!ok) ++failures;
}

// Sums over every process of rank-dependent values, and rank 0's broadcast.
void collectives(const ctnn::dist::Nccl& nccl) {
    const int size = nccl.size(), rank = nccl.rank();
    const std::size_t n = 1000;
    std::vector<float> host(n);
    for (std::size_t i = 0; i < n; ++i) host[i] = float(i) + float(rank);
    float* values = nullptr;
    cudaMalloc(&values, n * sizeof(float));
    cudaMemcpy(values, host.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    nccl.all_reduce_sum(values, n);
    std::vector<float> got(n), want(n);
    cudaMemcpy(got.data(), values, n * sizeof(float), cudaMemcpyDeviceToHost);
    for (std::size_t i = 0; i < n; ++i) want[i] = float(i) * float(size) + float(size * (size - 1) / 2);
    expect_close("all-reduce of floats in GPU memory", got, want, 0.0f);
    for (std::size_t i = 0; i < n; ++i) host[i] = float(rank == 0 ? i : 0);
    cudaMemcpy(values, host.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    nccl.broadcast(values, n, 0);
    cudaMemcpy(got.data(), values, n * sizeof(float), cudaMemcpyDeviceToHost);
    for (std::size_t i = 0; i < n; ++i) want[i] = float(i);
    expect_close("broadcast from rank 0 in GPU memory", got, want, 0.0f);
    cudaFree(values);
}

// Data-parallel fit at 16 per process against one process's fit at the
// global batch (the same run; only the order of additions differs).
template <class Net, class Opt>
void against_plain_fit(const ctnn::dist::Nccl& nccl, const char* what, Opt optimizer,
                       const ctnn::data::Dataset& train, bool sync) {
    ctnn::FitOptions options{.epochs = 3, .batch_size = 16, .seed = 5, .verbosity = ctnn::Verbosity::silent};
    typename Net::template on<Cuda> parallel{ctnn::Seed{7 + std::uint64_t(nccl.rank())}};
    options.distributed = {&nccl, sync};
    ctnn::fit(parallel, Opt(optimizer), ctnn::CategoricalCrossEntropy{}, train, options);
    if (nccl.rank() != 0) return;
    typename Net::template on<Cuda> single{ctnn::Seed{7}};
    options.distributed = {};
    options.batch_size = 16 * std::size_t(nccl.size());
    ctnn::fit(single, Opt(optimizer), ctnn::CategoricalCrossEntropy{}, train, options);
    expect_close(what, parallel.host_parameters(), single.host_parameters(), 1e-4f);
    if (sync) expect_close("  its running statistics", parallel.host_state(), single.host_state(), 1e-4f);
}

} // namespace

int main(int argc, char** argv) {
    if (!ctnn::testing::cuda_device_present()) return 77;
    ctnn::dist::Mpi mpi(argc, argv);
    ctnn::dist::Nccl nccl(mpi);
    std::printf("rank %d of %d on GPU %d\n", nccl.rank(), nccl.size(), nccl.device());
    collectives(nccl);
    against_plain_fit<Mlp>(nccl, "MLP with dropout, Adam", ctnn::Adam{0.01f}, three_classes(100, 12, 1),
                           false);
    against_plain_fit<Cnn>(nccl, "CNN, synchronised BatchNorm, SGD", ctnn::SGD{0.05f, 0.9f},
                           three_classes(100, 64, 3), true);
    return failures == 0 ? 0 : 1;
}
