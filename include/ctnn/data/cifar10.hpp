// CIFAR-10, binary version (cifar-10-batches-bin): data_batch_1.bin ..
// data_batch_5.bin and test_batch.bin, each records of 3,073 bytes (10,000
// in the real files): a label byte 0..9, then the 32x32 red, green and blue
// planes, each row by row; batches.meta.txt names the classes, a line each.
// Rows become channels-first (3, 32, 32) samples scaled to [0, 1], the
// layout Input<3, 32, 32> reads.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <ctnn/data/dataset.hpp>
#include <ctnn/data/error.hpp>

namespace ctnn::data {

namespace cifar10 {
inline constexpr std::size_t channels = 3, height = 32, width = 32;
inline constexpr std::size_t pixels = channels * height * width;  // 3,072
inline constexpr std::size_t record_bytes = 1 + pixels;           // 3,073
inline constexpr std::size_t classes = 10;
inline constexpr std::string_view where_to_get_it =
    "CIFAR-10's binary version is cifar-10-binary.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html (unpacked: cifar-10-batches-bin/)";
} // namespace cifar10

struct Cifar10 {
    Dataset train;  // the five data batches, in order
    Dataset test;   // test_batch.bin
    std::vector<std::string> class_names;
};

struct Cifar10Options {
    // (x - mean) / std per channel, with the training set's mean and standard
    // deviation, on both sets; off: pixels in [0, 1].
    bool normalize = false;
};

// One batch file's records, in file order.
inline Dataset read_cifar10_batch(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::error_code error;
        throw DataError(file, std::filesystem::exists(file, error) ? "cannot be opened for reading"
                                                                   : "does not exist");
    }
    const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) throw DataError(file, "reading failed");
    if (bytes.empty()) throw DataError(file, "is empty; a CIFAR-10 batch holds records of 3073 bytes");
    if (bytes.size() % cifar10::record_bytes != 0)
        throw DataError(file, std::to_string(bytes.size()) + " bytes are not whole records of 3073 bytes (" +
                                  std::to_string(bytes.size() / cifar10::record_bytes) + " records and " +
                                  std::to_string(bytes.size() % cifar10::record_bytes) +
                                  " bytes more): the file is truncated or not a CIFAR-10 batch");
    const std::size_t count = bytes.size() / cifar10::record_bytes;
    using Matrix = xt::xtensor<float, 2>;
    Dataset data{Matrix(Matrix::shape_type{count, cifar10::pixels}), Matrix(Matrix::shape_type{count, 1})};
    for (std::size_t r = 0; r < count; ++r) {
        const unsigned char* record = bytes.data() + r * cifar10::record_bytes;
        if (record[0] >= cifar10::classes)
            throw DataError(file, "record " + std::to_string(r) + " (byte " +
                                      std::to_string(r * cifar10::record_bytes) + ") has label " +
                                      std::to_string(record[0]) + ", not a class 0..9");
        data.targets(r, 0) = float(record[0]);
        std::transform(record + 1, record + cifar10::record_bytes, data.inputs.data() + r * cifar10::pixels,
                       [](unsigned char v) { return float(v) / 255.0f; });
    }
    return data;
}

namespace detail {

inline Dataset concatenate(const std::vector<Dataset>& parts) {
    std::size_t rows = 0;
    for (const Dataset& part : parts) rows += part.size();
    using Matrix = xt::xtensor<float, 2>;
    Dataset all{Matrix(Matrix::shape_type{rows, cifar10::pixels}), Matrix(Matrix::shape_type{rows, 1})};
    float* inputs = all.inputs.data();
    float* targets = all.targets.data();
    for (const Dataset& part : parts) {
        inputs = std::copy(part.inputs.begin(), part.inputs.end(), inputs);
        targets = std::copy(part.targets.begin(), part.targets.end(), targets);
    }
    return all;
}

// The class names, a line each; CIFAR-10's own when the file is absent.
inline std::vector<std::string> read_cifar10_names(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) names.push_back(line);
    }
    if (names.size() != cifar10::classes)
        throw DataError(file, "names " + std::to_string(names.size()) + " classes; CIFAR-10 has 10");
    return names;
}

// Per channel: x = (x - mean) / std, with the statistics of `reference`.
inline void normalize_channels(const Dataset& reference, std::vector<Dataset*> sets) {
    constexpr std::size_t plane = cifar10::height * cifar10::width;
    for (std::size_t c = 0; c < cifar10::channels; ++c) {
        double sum = 0.0, squares = 0.0;
        for (std::size_t r = 0; r < reference.size(); ++r) {
            const float* x = reference.inputs.data() + r * cifar10::pixels + c * plane;
            for (std::size_t i = 0; i < plane; ++i) sum += x[i], squares += double(x[i]) * x[i];
        }
        const double n = double(reference.size() * plane);
        const double mean = sum / n;
        const double deviation = std::sqrt(std::max(squares / n - mean * mean, 1e-12));
        for (Dataset* set : sets)
            for (std::size_t r = 0; r < set->size(); ++r) {
                float* x = set->inputs.data() + r * cifar10::pixels + c * plane;
                for (std::size_t i = 0; i < plane; ++i) x[i] = float((x[i] - mean) / deviation);
            }
    }
}

} // namespace detail

// The six batch files of `directory` (cifar-10-batches-bin). Every file is
// looked for before any is read, so that a missing one is reported at once,
// with where the data set comes from.
inline Cifar10 load_cifar10(const std::filesystem::path& directory, const Cifar10Options& options = {}) {
    std::vector<std::filesystem::path> files;
    for (int b = 1; b <= 5; ++b) files.push_back(directory / ("data_batch_" + std::to_string(b) + ".bin"));
    files.push_back(directory / "test_batch.bin");
    std::vector<std::string> missing;
    for (const auto& file : files) {
        std::error_code error;
        if (!std::filesystem::exists(file, error)) missing.push_back(file.filename().string());
    }
    if (!missing.empty()) {
        std::string list;
        for (const std::string& name : missing) list += (list.empty() ? "" : ", ") + name;
        throw DataError(directory, "has no " + list + "; " + std::string(cifar10::where_to_get_it));
    }
    std::vector<Dataset> training;
    for (std::size_t b = 0; b < 5; ++b) training.push_back(read_cifar10_batch(files[b]));
    Cifar10 cifar{detail::concatenate(training), read_cifar10_batch(files[5]),
                  detail::read_cifar10_names(directory / "batches.meta.txt")};
    if (options.normalize) detail::normalize_channels(cifar.train, {&cifar.train, &cifar.test});
    return cifar;
}

} // namespace ctnn::data
