// The CUDA tests' main: without a CUDA device there is nothing to test, so
// it says why in one line and exits with 77, which CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstdio>

int main(int argc, char** argv) {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        std::printf("skipped: no CUDA device (%s)\n",
                    status != cudaSuccess ? cudaGetErrorString(status) : "none present");
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
