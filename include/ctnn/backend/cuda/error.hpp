// CUDA and cuBLAS failures as exceptions that name the call, its sizes and
// the library's own message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <type_traits>

namespace ctnn::backend::cuda {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `what` names the call and its arguments, e.g. "cudaMemcpyAsync(4096 bytes,
// device to host)": a string, or a function that returns one, called only on
// failure, so that a call in a training step builds no message.
template <class What>
std::string describe(const What& what) {
    if constexpr (std::is_invocable_v<const What&>)
        return what();
    else
        return std::string(what);
}

template <class What>
void check(cudaError_t status, const What& what) {
    if (status != cudaSuccess)
        throw Error("ctnn: CUDA: " + describe(what) + " failed: " + cudaGetErrorName(status) + ": " +
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

template <class What>
void check(cublasStatus_t status, const What& what) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error("ctnn: cuBLAS: " + describe(what) + " failed: " + cublas_status_name(status));
}

} // namespace ctnn::backend::cuda
