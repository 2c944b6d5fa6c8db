#include <ctnn/backend/cuda/backend.hpp>

#include "network.hpp"

// Without a GPU there is nothing to run: building is the test.
int main() {
    std::string why;
    if (ctnn::backend::cuda::device_count(&why) == 0) {
        std::printf("no CUDA device (%s): built, not run\n", why.c_str());
        return 0;
    }
    return train_one_step<ctnn::backend::Cuda>();
}
