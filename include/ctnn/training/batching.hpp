// How a network's outputs and a data set's rows meet a loss: the shared part
// of fit(), evaluate(), predict() and the sequence metrics. Data sets live in
// host memory; batches go to the backend's memory (where that is host memory,
// rows are read in place).
#pragma once

#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/core/config.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/losses/loss.hpp"

namespace ctnn::detail {

// A network's output seen as rows of class scores: one row per sample for
// Shape<C>, one per time step for Shape<T, C>.
template <class Net>
struct OutputRows {
    using shape = typename Net::output_shape;
    static constexpr std::size_t width = shape::dims[shape::rank - 1];
    static constexpr std::size_t per_sample = shape::size / width;

    static LossBatch batch(const float* predictions, const float* targets, std::size_t samples,
                           std::size_t target_values_per_sample, bool targets_checked = false) {
        return {predictions, targets, samples * per_sample, width,
                target_values_per_sample / per_sample, targets_checked};
    }
};

// Rejects rows that do not fit the network, naming both shapes.
template <class Net>
void check_rows(std::size_t size, std::size_t input_width, std::size_t target_width, const char* caller,
                const char* role) {
    using input = typename Net::input_shape;
    auto fail = [&](const std::string& problem) {
        throw std::invalid_argument(std::string("ctnn: ") + caller + ": " + role + " " + problem);
    };
    if (size == 0) fail("data set is empty");
    if (input_width != input::size)
        fail("inputs have " + std::to_string(input_width) + " values per sample, but the network's Input is " +
             to_string(input{}) + " (" + std::to_string(input::size) + " values)");
    if (target_width % OutputRows<Net>::per_sample != 0)
        fail("targets have " + std::to_string(target_width) + " values per sample, not a multiple of the output's " +
             std::to_string(OutputRows<Net>::per_sample) + " time steps");
}

template <class Net>
void check_dataset(const data::Dataset& data, const char* caller, const char* role) {
    if (data.size() != 0 && data.targets.shape(0) != data.size())
        throw std::invalid_argument(std::string("ctnn: ") + caller + ": " + role + " data set has " +
                                    std::to_string(data.size()) + " inputs but " +
                                    std::to_string(data.targets.shape(0)) + " targets");
    check_rows<Net>(data.size(), data.input_width(), data.target_width(), caller, role);
}

// Rejects a NaN or infinite input value, naming the first one's row (counted
// from `first_row`) and column (FitOptions::check_inputs).
inline void check_finite_rows(const float* x, std::size_t rows, std::size_t width, const char* caller,
                              const char* role, std::size_t first_row = 0) {
    for (std::size_t i = 0; i < rows * width; ++i)
        if (!std::isfinite(x[i])) {
            std::ostringstream value;
            value << x[i];
            throw std::invalid_argument(std::string("ctnn: ") + caller + ": " + role + " input row " +
                                        std::to_string(first_row + i / width) + " holds " + value.str() +
                                        " at value " + std::to_string(i % width));
        }
}

inline void check_finite_inputs(const data::Dataset& data, const char* caller, const char* role) {
    check_finite_rows(data.inputs.data(), data.size(), data.input_width(), caller, role);
}

// Class of prediction row r, and of its target (index or one-hot row).
CTNN_HOST_DEVICE inline std::size_t predicted_class(const LossBatch& b, std::size_t r) {
    const float* p = b.predictions + r * b.width;
    if (b.width == 1) return p[0] > 0.5f ? 1 : 0;
    std::size_t best = 0;
    for (std::size_t c = 1; c < b.width; ++c)
        if (p[c] > p[best]) best = c;
    return best;
}

CTNN_HOST_DEVICE inline std::size_t true_class(const LossBatch& b, std::size_t r) {
    if (b.width == 1) return b.targets[r] > 0.5f ? 1 : 0;
    if (b.target_width == 1) return static_cast<std::size_t>(b.targets[r]);
    const float* t = b.targets + r * b.width;
    std::size_t best = 0;
    for (std::size_t c = 1; c < b.width; ++c)
        if (t[c] > t[best]) best = c;
    return best;
}

struct RowCorrect {
    LossBatch b;
    CTNN_HOST_DEVICE double operator()(std::size_t r) const {
        return predicted_class(b, r) == true_class(b, r) ? 1.0 : 0.0;
    }
};

template <class Backend>
std::size_t count_correct(const Backend& backend, const LossBatch& b) {
    return std::size_t(backend.transform_sum(b.rows, RowCorrect{b}));
}

// `count` values of T (doubles, counters, flags) from the backend's memory:
// its transfers are in floats, so T's bytes travel as floats.
template <class Backend, class T>
void to_host_bytes(const Backend& backend, const T* device, T* host, std::size_t count) {
    static_assert(sizeof(T) % sizeof(float) == 0 && std::is_trivially_copyable_v<T>);
    backend.to_host(reinterpret_cast<const float*>(device), reinterpret_cast<float*>(host),
                    count * (sizeof(T) / sizeof(float)));
}

// Checks every target of a data set on the host, once, with the loss's own
// check; afterwards the steps build their batches with targets_checked.
template <class Net, class L>
bool check_targets(const L&, const data::Dataset& data) {
    if constexpr (requires(const LossBatch& b) { L::check_targets(b); }) {
        L::check_targets(OutputRows<Net>::batch(nullptr, data.targets.data(), data.size(), data.target_width()));
        return true;
    } else {
        return false;
    }
}

// Copies rows between a host data set and the backend's memory, through a
// staging buffer that is sized once; where the backend's memory is host
// memory, nothing is copied.
template <class Backend>
class Staging {
public:
    // `n` host floats, readable by the backend.
    const float* to_device(const Backend& backend, const float* host, std::size_t n) {
        return through(device_, host, n, [&](const float* from, float* to) { backend.to_device(from, to, n); });
    }
    // `n` device floats, readable on the host.
    const float* to_host(const Backend& backend, const float* device, std::size_t n) {
        return through(host_, device, n, [&](const float* from, float* to) { backend.to_host(from, to, n); });
    }

private:
    template <class Buffer, class Transfer>
    static const float* through(Buffer& buffer, const float* from, std::size_t n, Transfer&& transfer) {
        if constexpr (Backend::host_memory) {
            return from;
        } else {
            if (buffer.size() < n) buffer.resize(n);
            transfer(from, buffer.data());
            return buffer.data();
        }
    }

    typename Backend::template buffer<float> device_;
    std::vector<float> host_;
};

// Rows order[first], order[first + 1], ... of `from` (width floats each), as
// consecutive rows of `to`.
struct GatherRows {
    const std::size_t* order;
    const float* from;
    float* to;
    std::size_t width;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float* row = from + order[i] * width;
        float* out = to + i * width;
        for (std::size_t j = 0; j < width; ++j) out[j] = row[j];
    }
};

// The host memory a batch is gathered in before its transfer: the backend's
// host_buffer where it has one (pinned memory on CUDA, so that the copy runs
// asynchronously), else a vector.
template <class Backend>
struct staging_buffer {
    using type = std::vector<float>;
};
template <class Backend>
    requires requires { typename Backend::template host_buffer<float>; }
struct staging_buffer<Backend> {
    using type = typename Backend::template host_buffer<float>;
};

// A shuffled batch of a data set's rows in the backend's memory: a parallel
// gather straight into it where that is host memory, else on the host and
// then one transfer. The staging buffer only grows, and is rewritten only by
// the next call: by then the step that used the batch has read its loss back,
// so an asynchronous copy out of it has finished.
template <class Backend, class Staging>
void gather_batch(const Backend& backend, const data::Dataset& data, const std::size_t* order,
                  std::size_t batch, float* inputs, float* targets, Staging& staging) {
    const std::size_t in = data.input_width(), out = data.target_width();
    if constexpr (Backend::host_memory) {
        backend.for_each(batch, GatherRows{order, data.inputs.data(), inputs, in}, in);
        backend.for_each(batch, GatherRows{order, data.targets.data(), targets, out}, out);
    } else {
        if (staging.size() < batch * (in + out)) staging.resize(batch * (in + out));
        for (std::size_t i = 0; i < batch; ++i) {
            GatherRows{order, data.inputs.data(), staging.data(), in}(i);
            GatherRows{order, data.targets.data(), staging.data() + batch * in, out}(i);
        }
        backend.to_device(staging.data(), inputs, batch * in);
        backend.to_device(staging.data() + batch * in, targets, batch * out);
    }
}

} // namespace ctnn::detail
