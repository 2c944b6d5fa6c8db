// The CUDA tests' main: without a CUDA device there is nothing to test, so
// it says why in one line and exits with 77, which CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support/cuda_device.hpp"

int main(int argc, char** argv) {
    if (!ctnn::testing::cuda_device_present()) return 77;
    doctest::Context context(argc, argv);
    return context.run();
}
