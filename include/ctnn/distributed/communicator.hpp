// What data-parallel training needs of a distributed engine, and how fit()
// is told to use one. ctnn runs on an existing engine, never its own:
// distributed/mpi.hpp (Open MPI, CPU processes) and distributed/nccl.hpp
// (NCCL, one GPU per process) implement this. This header needs neither.
//
//   ctnn::dist::Mpi mpi(argc, argv);
//   ctnn::fit(net, optimizer, loss, data.train,
//             {.batch_size = 64, .seed = 42, .distributed = {&mpi}});
//
// batch_size is each process's batch (as PyTorch's DistributedDataParallel):
// a step trains on a global batch of batch_size * size() samples.
#pragma once

#include <cstddef>
#include <string>

#include "ctnn/core/context.hpp"

namespace ctnn::dist {

// Collectives over a fixed group of processes. Every process calls each one
// in the same order. "Device memory" is the memory of the backend the
// communicator is for: host memory for MPI, the GPU's for NCCL.
class Communicator : public BatchStatisticsSum {
public:
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // Whether the collectives on device memory take GPU pointers.
    virtual bool gpu_memory() const = 0;

    // In place, summed over every process: device memory.
    virtual void all_reduce_sum(float* values, std::size_t n) const = 0;
    void all_reduce_sum(double* values, std::size_t n) const override = 0;
    // Rank root's values to every process: device memory.
    virtual void broadcast(float* values, std::size_t n, int root) const = 0;

    // The same on host memory, for figures and flags.
    virtual void host_all_reduce_sum(double* values, std::size_t n) const = 0;
    virtual void host_broadcast(void* bytes, std::size_t n, int root) const = 0;

    // Ends every process of the group with `message` (on standard error):
    // what a process that failed does, so that none waits for it forever.
    [[noreturn]] virtual void abort(const std::string& message) const = 0;
};

// FitOptions::distributed. Without a communicator fit runs on one process.
struct DataParallel {
    const Communicator* communicator = nullptr;
    // BatchNorm's batch statistics over the global batch (as PyTorch's
    // SyncBatchNorm) rather than over each process's samples (off, as
    // DistributedDataParallel's default): two all-reduces per BatchNorm
    // forward and one per backward.
    bool sync_batch_norm = false;

    explicit operator bool() const { return communicator != nullptr; }
};

// The samples [first, last) of a global batch of `global` that process
// `rank` of `size` trains on: contiguous, sizes differing by at most one.
struct Shard {
    std::size_t first = 0, last = 0;
    std::size_t size() const { return last - first; }
};
inline Shard shard_of(std::size_t global, int rank, int size) {
    const auto split = [&](int r) { return global * std::size_t(r) / std::size_t(size); };
    return {split(rank), split(rank + 1)};
}

} // namespace ctnn::dist
