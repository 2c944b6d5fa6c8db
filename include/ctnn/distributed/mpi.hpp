// dist::Mpi: data-parallel training over MPI (Open MPI on Debian), for
// networks whose backend keeps its memory on the host (Cpu, Portable,
// ThrustHost). Link ctnn::mpi; start the program with mpirun:
//
//   int main(int argc, char** argv) {
//       ctnn::dist::Mpi mpi(argc, argv);      // MPI_Init; MPI_Finalize at the end
//       ...
//       ctnn::fit(net, optimizer, loss, train, {.batch_size = 64, .distributed = {&mpi}});
//   }
//
//   mpirun -np 2 ./program
//
// A failing MPI call ends the job (MPI's default error handler), as does
// abort(): no process is left waiting in a collective for one that died.
#pragma once

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "ctnn/distributed/communicator.hpp"

namespace ctnn::dist {

class Mpi final : public Communicator {
public:
    // Initialises MPI unless the program did (then it also finalises it).
    Mpi(int& argc, char**& argv) { start(&argc, &argv); }
    Mpi() { start(nullptr, nullptr); }
    // Over a communicator the program made and keeps; MPI stays its business.
    explicit Mpi(MPI_Comm communicator) : comm_(communicator) {}
    Mpi(const Mpi&) = delete;
    Mpi& operator=(const Mpi&) = delete;
    ~Mpi() override {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owns_mpi_ && !finalized) MPI_Finalize();
    }

    MPI_Comm communicator() const { return comm_; }
    int rank() const override {
        int r = 0;
        MPI_Comm_rank(comm_, &r);
        return r;
    }
    int size() const override {
        int n = 1;
        MPI_Comm_size(comm_, &n);
        return n;
    }
    bool gpu_memory() const override { return false; }

    void all_reduce_sum(float* values, std::size_t n) const override { reduce(values, n, MPI_FLOAT); }
    void all_reduce_sum(double* values, std::size_t n) const override { reduce(values, n, MPI_DOUBLE); }
    void broadcast(float* values, std::size_t n, int root) const override {
        for_chunks(values, n, [&](float* chunk, int count) { MPI_Bcast(chunk, count, MPI_FLOAT, root, comm_); });
    }
    void host_all_reduce_sum(double* values, std::size_t n) const override { reduce(values, n, MPI_DOUBLE); }
    void host_broadcast(void* bytes, std::size_t n, int root) const override {
        for_chunks(static_cast<char*>(bytes), n,
                   [&](char* chunk, int count) { MPI_Bcast(chunk, count, MPI_BYTE, root, comm_); });
    }

    [[noreturn]] void abort(const std::string& message) const override {
        std::fprintf(stderr, "ctnn: process %d of %d: %s; ending every process of the job\n", rank(), size(),
                     message.c_str());
        std::fflush(stderr);
        MPI_Abort(comm_, 1);
        std::abort();  // MPI_Abort does not return; this tells the compiler so
    }

private:
    void start(int* argc, char*** argv) {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            // Only the thread that calls fit() calls MPI; OpenMP's threads never do.
            int provided = 0;
            if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                throw std::runtime_error("ctnn: dist::Mpi: MPI_Init_thread failed");
            owns_mpi_ = true;
        }
    }

    template <class T>
    void reduce(T* values, std::size_t n, MPI_Datatype type) const {
        for_chunks(values, n, [&](T* chunk, int count) {
            MPI_Allreduce(MPI_IN_PLACE, chunk, count, type, MPI_SUM, comm_);
        });
    }

    // MPI counts are ints.
    template <class T, class Call>
    static void for_chunks(T* values, std::size_t n, Call&& call) {
        constexpr std::size_t most = INT_MAX;
        for (std::size_t done = 0; done < n; done += most) call(values + done, int(n - done < most ? n - done : most));
    }

    MPI_Comm comm_ = MPI_COMM_WORLD;
    bool owns_mpi_ = false;
};

} // namespace ctnn::dist
