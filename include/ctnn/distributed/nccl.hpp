// dist::Nccl: data-parallel training of networks on the CUDA backend over
// NCCL, one GPU per process. MPI starts the processes, hands NCCL its unique
// id and carries the few host figures (losses, flags); the gradients, the
// BatchNorm sums and the start's broadcast of the weights go through NCCL, on
// the GPU. Compile with nvcc and link ctnn::nccl:
//
//   int main(int argc, char** argv) {
//       ctnn::dist::Mpi mpi(argc, argv);
//       ctnn::dist::Nccl nccl(mpi);                  // selects this process's GPU:
//       Net::on<ctnn::backend::Cuda> net;            // make the network after it
//       ctnn::fit(net, optimizer, loss, train, {.batch_size = 64, .distributed = {&nccl}});
//   }
//
//   mpirun -np 8 ./program      (8 GPUs: NCCL refuses two processes on one GPU)
//
// The collectives run on CUDA's legacy default stream, which every network's
// stream (a blocking one, backend/cuda/backend.hpp) waits for and is waited
// for by: an all-reduce starts after the backward kernels issued before it
// and the optimizer's kernels start after it, without a host wait.
#pragma once

#if !defined(__CUDACC__)
#error "ctnn/distributed/nccl.hpp needs nvcc: compile this source as CUDA and link ctnn::nccl"
#endif

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>

#include "ctnn/distributed/communicator.hpp"
#include "ctnn/distributed/mpi.hpp"

namespace ctnn::dist {

class Nccl final : public Communicator {
public:
    // Over mpi's processes. Each takes the GPU numbered by its place among
    // the processes of its node (its local rank), unless given one. Every
    // process makes its Nccl together (the set-up is collective); one that
    // fails ends the job with its reason, so that none waits for it.
    explicit Nccl(const Mpi& mpi, int device = -1) : mpi_(mpi) {
        try {
            device_ = device >= 0 ? device : local_device();
            cuda("cudaSetDevice", cudaSetDevice(device_));
            ncclUniqueId id{};
            if (mpi_.rank() == 0) nccl("ncclGetUniqueId", ncclGetUniqueId(&id));
            mpi_.host_broadcast(&id, sizeof id, 0);
            nccl("ncclCommInitRank", ncclCommInitRank(&comm_, mpi_.size(), id, mpi_.rank()));
        } catch (const std::exception& error) {
            abort(error.what());
        }
    }
    Nccl(const Nccl&) = delete;
    Nccl& operator=(const Nccl&) = delete;
    ~Nccl() override {
        if (comm_ != nullptr) ncclCommDestroy(comm_);
    }

    // The GPU this process trains on.
    int device() const { return device_; }
    int rank() const override { return mpi_.rank(); }
    int size() const override { return mpi_.size(); }
    bool gpu_memory() const override { return true; }

    void all_reduce_sum(float* values, std::size_t n) const override {
        nccl("ncclAllReduce", ncclAllReduce(values, values, n, ncclFloat, ncclSum, comm_, cudaStreamLegacy));
    }
    void all_reduce_sum(double* values, std::size_t n) const override {
        nccl("ncclAllReduce", ncclAllReduce(values, values, n, ncclDouble, ncclSum, comm_, cudaStreamLegacy));
    }
    void broadcast(float* values, std::size_t n, int root) const override {
        nccl("ncclBroadcast", ncclBroadcast(values, values, n, ncclFloat, root, comm_, cudaStreamLegacy));
    }
    void host_all_reduce_sum(double* values, std::size_t n) const override { mpi_.host_all_reduce_sum(values, n); }
    void host_broadcast(void* bytes, std::size_t n, int root) const override { mpi_.host_broadcast(bytes, n, root); }

    // NCCL's kernels may be waiting for a process that failed: abort them
    // first, then end the job through MPI.
    [[noreturn]] void abort(const std::string& message) const override {
        if (comm_ != nullptr) ncclCommAbort(comm_);
        mpi_.abort(message);
    }

private:
    // This process's place among the processes of its node, which must not
    // outnumber the node's GPUs.
    int local_device() const {
        MPI_Comm node = MPI_COMM_NULL;
        MPI_Comm_split_type(mpi_.communicator(), MPI_COMM_TYPE_SHARED, mpi_.rank(), MPI_INFO_NULL, &node);
        int local_rank = 0, local_size = 1;
        MPI_Comm_rank(node, &local_rank);
        MPI_Comm_size(node, &local_size);
        MPI_Comm_free(&node);
        int devices = 0;
        cuda("cudaGetDeviceCount", cudaGetDeviceCount(&devices));
        if (local_size > devices)
            throw std::runtime_error("ctnn: dist::Nccl: " + std::to_string(local_size) +
                                     " processes on this node but " + std::to_string(devices) +
                                     " GPUs; NCCL takes one GPU per process");
        return local_rank;
    }

    static void cuda(const char* call, cudaError_t status) {
        if (status != cudaSuccess)
            throw std::runtime_error(std::string("ctnn: dist::Nccl: ") + call + ": " + cudaGetErrorString(status));
    }
    static void nccl(const char* call, ncclResult_t status) {
        if (status != ncclSuccess)
            throw std::runtime_error(std::string("ctnn: dist::Nccl: ") + call + ": " + ncclGetErrorString(status));
    }

    const Mpi& mpi_;
    int device_ = 0;
    ncclComm_t comm_ = nullptr;
};

} // namespace ctnn::dist
