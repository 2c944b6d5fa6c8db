// Whether a CUDA device is there to test on. Without one a GPU test has
// nothing to test: it says why in one line and exits with 77, which CTest
// reports as skipped.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>

namespace ctnn::testing {

inline bool cuda_device_present() {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status == cudaSuccess && count > 0) return true;
    std::printf("skipped: no CUDA device (%s)\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "none present");
    return false;
}

} // namespace ctnn::testing
