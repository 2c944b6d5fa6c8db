// The Thrust backends' buffers (backend/thrust/buffer.hpp), on ThrustHost's
// memory: growth keeps the values, copies are deep, and a failed allocation
// names its size and leaves the buffer as it was.
#if defined(CTNN_TEST_THRUST)
#include <doctest/doctest.h>

#include <cstddef>
#include <new>
#include <string>
#include <vector>

#include <ctnn/backend/thrust/host.hpp>
#include <ctnn/ctnn.hpp>

namespace backend_device_buffer_test {

using Buffer = ctnn::backend::ThrustHost::buffer<float>;

void fill_iota(Buffer& buffer) {
    for (std::size_t i = 0; i < buffer.size(); ++i) buffer.data()[i] = float(i);
}

TEST_CASE("a device buffer keeps its first values when it grows or shrinks") {
    Buffer buffer(5);
    fill_iota(buffer);
    buffer.resize(9);
    REQUIRE(buffer.size() == 9);
    for (std::size_t i = 0; i < 5; ++i) CHECK(buffer.data()[i] == float(i));
    buffer.resize(2);
    REQUIRE(buffer.size() == 2);
    CHECK(buffer.data()[1] == 1.0f);
    buffer.resize(0);
    CHECK(buffer.size() == 0);
    CHECK(buffer.data() == nullptr);
}

TEST_CASE("a copied device buffer owns its own values; a moved one hands them over") {
    Buffer original(4);
    fill_iota(original);
    Buffer copy = original;
    REQUIRE(copy.size() == 4);
    CHECK(copy.data() != original.data());
    copy.data()[0] = 42.0f;
    CHECK(original.data()[0] == 0.0f);
    const float* values = original.data();
    Buffer moved = std::move(original);
    CHECK(moved.data() == values);
    CHECK(original.size() == 0);
    copy = moved;
    CHECK(copy.data()[0] == 0.0f);
}

TEST_CASE("a failed allocation names the memory and the size, and leaves the buffer as it was") {
    Buffer buffer(3);
    fill_iota(buffer);
    const std::size_t huge = std::size_t{1} << 60;  // floats: 4 EiB
    try {
        buffer.resize(huge);
        FAIL("allocated 4 EiB");
    } catch (const std::bad_alloc& error) {
        const std::string message = error.what();
        CHECK(message.find("ThrustHost") != std::string::npos);
        CHECK(message.find(std::to_string(huge * sizeof(float)) + " bytes") != std::string::npos);
    }
    REQUIRE(buffer.size() == 3);
    CHECK(buffer.data()[2] == 2.0f);
}

TEST_CASE("a network whose workspace cannot grow says which call, which batch and which backend") {
    using Net = ctnn::Sequential<ctnn::Input<4>, ctnn::Dense<3>>::on<ctnn::backend::ThrustHost>;
    Net net{ctnn::Seed{1}};
    const std::vector<float> before = net.host_parameters();
    try {
        net.reserve(std::size_t{1} << 40);
        FAIL("reserved a workspace for 2^40 samples");
    } catch (const ctnn::AllocationError& error) {
        const std::string message = error.what();
        CHECK(message.find("ctnn: reserve: reserving the workspace for a batch of 1099511627776 samples on Thrust (OpenMP) failed") != std::string::npos);
    }
    CHECK(net.host_parameters() == before);
    // Still usable at an ordinary batch.
    Net::backend_type::buffer<float> x(8);
    net.backend().fill(x.data(), 8, 0.5f);
    CHECK(net.forward({x.data(), 8}, 2).size() == 6);
}

} // namespace backend_device_buffer_test

#endif
