// What the CUDA backend says when it fails: an allocation too large for the
// device, cuBLAS rejecting its arguments, inputs left in host memory.
#include <doctest/doctest.h>

#include <ctnn/backend/cuda/backend.hpp>
#include <ctnn/ctnn.hpp>

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

TEST_CASE("a device allocation that fails names cudaMalloc, the size and the free memory") {
    using Buffer = ctnn::backend::Cuda::buffer<float>;
    Buffer small(16);
    try {
        small.resize(std::size_t{1} << 46);  // 256 TiB
        FAIL("the allocation succeeded");
    } catch (const std::bad_alloc& error) {
        const std::string message = error.what();
        CHECK(message.find("cudaMalloc(281474976710656 bytes)") != std::string::npos);
        CHECK(message.find("free of") != std::string::npos);
    }
    CHECK(small.size() == 16);  // unchanged by the failed resize
}

TEST_CASE("a failing cuBLAS call names the call and its sizes") {
    const ctnn::backend::Cuda cuda;
    ctnn::backend::Cuda::buffer<float> a(4), c(4);
    // lda smaller than the row length is invalid.
    try {
        cuda.gemm(ctnn::Trans::no, ctnn::Trans::no, 2, 2, 2, 1.0f, a.data(), 1, a.data(), 2, 0.0f,
                  c.data(), 2);
        FAIL("cuBLAS accepted lda = 1");
    } catch (const ctnn::backend::cuda::Error& error) {
        const std::string message = error.what();
        CHECK(message.find("cublasSgemm(m=2, n=2, k=2)") != std::string::npos);
        CHECK(message.find("CUBLAS_STATUS_INVALID_VALUE") != std::string::npos);
    }
}

TEST_CASE("forward on the CUDA backend refuses inputs in host memory, naming what to do") {
    using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<2>>::on<ctnn::backend::Cuda>;
    Net net{ctnn::Seed{1}};
    const std::vector<float> host(8, 1.0f);
    try {
        net.forward(host, 2);
        FAIL("forward read host memory");
    } catch (const std::invalid_argument& error) {
        CHECK(std::string(error.what()).find("not in the CUDA backend's memory") != std::string::npos);
    }
}
