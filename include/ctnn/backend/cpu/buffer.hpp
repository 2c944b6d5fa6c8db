// Contiguous, cache-line aligned storage for parameters, gradients and
// activations: one allocation per role, sized once, reused every step.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace ctnn::backend::cpu {

template <class T, std::size_t Alignment = 64>
struct AlignedAllocator {
    using value_type = T;
    template <class U>
    struct rebind {
        using other = AlignedAllocator<U, Alignment>;
    };

    AlignedAllocator() = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U, Alignment>&) {}

    T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{Alignment}));
    }
    void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{Alignment}); }

    friend bool operator==(AlignedAllocator, AlignedAllocator) { return true; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

} // namespace ctnn::backend::cpu
