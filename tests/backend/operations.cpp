// The Backend concept's operations besides GEMM (core/backend.hpp), on every
// test backend: what layers, losses and optimizers rely on. Sizes above the
// CPU's parallel grain make the work spread over threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>

#include "support/backends.hpp"

namespace backend_operations_test {

constexpr std::size_t large = 3 * ctnn::backend::cpu::parallel_grain + 5;

struct Square {
    const float* x;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = x[i] * x[i]; }
};

// A value whose float sum depends on the order of the additions.
struct Alternating {
    CTNN_HOST_DEVICE double operator()(std::size_t i) const {
        return i % 2 ? 1e-8 * double(i) : 1e8 / double(i + 1);
    }
};

TEST_CASE_TEMPLATE("for_each: the functor runs once for every index", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{17}, large}) {
        CAPTURE(n);
        std::vector<float> x(n), y(n, -1.0f);
        std::iota(x.begin(), x.end(), 0.0f);
        backend.for_each(n, Square{x.data(), y.data()});
        bool all = true;
        for (std::size_t i = 0; i < n; ++i) all = all && y[i] == x[i] * x[i];
        CHECK(all);
        // A cost hint changes how the work is split, not what it computes.
        std::fill(y.begin(), y.end(), -1.0f);
        backend.for_each(n, Square{x.data(), y.data()}, 64);
        for (std::size_t i = 0; i < n; ++i) all = all && y[i] == x[i] * x[i];
        CHECK(all);
    }
}

TEST_CASE_TEMPLATE("transform_sum: the index-order sum in double", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    double expected = 0.0;
    for (std::size_t i = 0; i < large; ++i) expected += Alternating{}(i);
    // The figure must not depend on threads: exactly the sequential sum on
    // the CPU; on a Thrust backend fixed blocks of it, summed in order, so
    // the same figure every time and the sum to rounding.
    const double sum = backend.transform_sum(large, Alternating{});
    if constexpr (std::is_same_v<Backend, ctnn::backend::Cpu>) CHECK(sum == expected);
    CHECK(sum == doctest::Approx(expected).epsilon(1e-12));
    CHECK(backend.transform_sum(large, Alternating{}) == sum);
    CHECK(backend.transform_sum(0, Alternating{}) == 0.0);
}

TEST_CASE_TEMPLATE("column_sums: overwrites with beta 0, adds with beta 1", Backend,
                   CTNN_TEST_BACKENDS) {
    const Backend backend;
    for (auto [rows, cols] : {std::pair{std::size_t{3}, std::size_t{4}},
                              std::pair{std::size_t{2}, large}, std::pair{large, std::size_t{2}}}) {
        CAPTURE(rows);
        CAPTURE(cols);
        std::vector<float> x(rows * cols);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 13) - 6.0f;
        std::vector<double> expected(cols, 0.0);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) expected[c] += x[r * cols + c];
        std::vector<float> sums(cols, 100.0f);
        backend.column_sums(x.data(), rows, cols, sums.data());
        bool overwritten = true;
        for (std::size_t c = 0; c < cols; ++c) overwritten = overwritten && sums[c] == expected[c];
        CHECK(overwritten);
        backend.column_sums(x.data(), rows, cols, sums.data(), 1.0f);
        bool added = true;
        for (std::size_t c = 0; c < cols; ++c) added = added && sums[c] == 2 * expected[c];
        CHECK(added);
    }
}

TEST_CASE_TEMPLATE("axpy, fill, copy and the transfers", Backend, CTNN_TEST_BACKENDS) {
    const Backend backend;
    typename Backend::template buffer<float> device;
    device.resize(large);
    backend.fill(device.data(), large, 2.0f);
    std::vector<float> x(large);
    std::iota(x.begin(), x.end(), 0.0f);
    backend.axpy(large, 0.5f, x.data(), device.data());

    std::vector<float> host(large, -1.0f);
    backend.to_host(device.data(), host.data(), large);
    bool all = true;
    for (std::size_t i = 0; i < large; ++i) all = all && host[i] == 2.0f + 0.5f * x[i];
    CHECK(all);

    typename Backend::template buffer<float> other;
    other.resize(large);
    backend.to_device(x.data(), other.data(), large);
    backend.copy(other.data(), device.data(), large);
    backend.copy(device.data(), device.data(), large);  // onto itself: nothing changes
    backend.to_host(device.data(), host.data(), large);
    CHECK(host == x);
}

} // namespace backend_operations_test
