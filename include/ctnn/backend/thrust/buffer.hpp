// A buffer in a Thrust backend's memory: an owning pointer and a size, with
// the memory's own allocation and copies. Memory is a type with static
//   void* allocate(std::size_t bytes);            // throws, naming the size
//   void deallocate(void*) noexcept;
//   void copy(void* to, const void* from, std::size_t bytes);   // within it
// (backend/thrust/host.hpp: aligned host memory; backend/cuda/backend.hpp:
// cudaMalloc, and pinned host memory for staging). Not thrust::device_vector: its data() is a thrust pointer, and
// it would initialise every element on resize, a kernel launch per buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "ctnn/core/backend.hpp"

namespace ctnn::backend::thrust_backend {

template <class T, class Memory>
class DeviceBuffer {
public:
    using value_type = T;

    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t n) { resize(n); }
    DeviceBuffer(const DeviceBuffer& other) : DeviceBuffer(other.size_) {
        if (size_ != 0) Memory::copy(data_, other.data_, size_ * sizeof(T));
    }
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        return *this;
    }
    ~DeviceBuffer() { Memory::deallocate(data_); }

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return size_; }

    // Keeps the first min(old, new) values, as std::vector does. The new
    // memory is taken before the old is freed: a failed allocation leaves the
    // buffer as it was.
    void resize(std::size_t n) {
        if (n == size_) return;
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
            throw AllocationError("ctnn: a buffer of " + std::to_string(n) + " values of " +
                                  std::to_string(sizeof(T)) + " bytes is larger than memory can be");
        T* grown = n == 0 ? nullptr : static_cast<T*>(Memory::allocate(n * sizeof(T)));
        if (grown != nullptr && size_ != 0) {
            try {
                Memory::copy(grown, data_, std::min(n, size_) * sizeof(T));
            } catch (...) {
                Memory::deallocate(grown);
                throw;
            }
        }
        Memory::deallocate(data_);
        data_ = grown;
        size_ = n;
    }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace ctnn::backend::thrust_backend
