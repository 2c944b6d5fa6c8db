// CUDA and cuBLAS failures as exceptions that name the call, its sizes and
// the library's own message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace ctnn::backend::cuda {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `what` names the call and its arguments, e.g. "cudaMemcpyAsync(4096 bytes, device to host)".
inline void check(cudaError_t status, const std::string& what) {
    if (status != cudaSuccess)
        throw Error("ctnn: CUDA: " + what + " failed: " + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status));
}

inline const char* cublas_status_name(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
    }
}

inline void check(cublasStatus_t status, const std::string& what) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error("ctnn: cuBLAS: " + what + " failed: " + cublas_status_name(status));
}

} // namespace ctnn::backend::cuda
