// gpu_bench.cpp's workloads on the CUDA backend, compiled by nvcc.
#define CTNN_BENCH_CUDA_PART
#include <ctnn/backend/cuda/backend.hpp>

#include "gpu_bench.cpp"
