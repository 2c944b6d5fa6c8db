// The CIFAR-10 loader on small batch files the test writes itself (the data
// set cannot be downloaded on these machines), and on every broken form.
#include <ctnn/data/cifar10.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace data_cifar10_test {

namespace fs = std::filesystem;
using ctnn::data::DataError;
using ctnn::testing::TempDir;
using Bytes = std::vector<unsigned char>;

// Record r of a batch: label `label`, and pixel i of channel c holding
// (first + 7 r + 3 c + i) mod 256.
Bytes record(unsigned char label, std::size_t first) {
    Bytes bytes{label};
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t i = 0; i < 1024; ++i) bytes.push_back(static_cast<unsigned char>((first + 3 * c + i) % 256));
    return bytes;
}

void write(const fs::path& file, const Bytes& bytes) {
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

// Batch b holds `per_batch` records, labelled (b + r) mod 10.
void write_batches(const TempDir& dir, std::size_t per_batch) {
    for (int b = 1; b <= 6; ++b) {
        Bytes batch;
        for (std::size_t r = 0; r < per_batch; ++r) {
            const Bytes one = record(static_cast<unsigned char>((b + r) % 10), 7 * r + 50 * b);
            batch.insert(batch.end(), one.begin(), one.end());
        }
        write(dir / (b <= 5 ? "data_batch_" + std::to_string(b) + ".bin" : std::string("test_batch.bin")), batch);
    }
}

std::string message_of(const auto& load) {
    try {
        load();
    } catch (const DataError& error) {
        return error.what();
    }
    return "(no error)";
}

TEST_CASE("load_cifar10 reads channels-first rows scaled to [0, 1], the five training batches in order") {
    TempDir dir("ctnn-cifar10");
    write_batches(dir, 3);
    std::ofstream(dir / "batches.meta.txt") << "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
    const auto cifar = ctnn::data::load_cifar10(dir.path());
    REQUIRE(cifar.train.size() == 15);
    REQUIRE(cifar.test.size() == 3);
    CHECK(cifar.train.input_width() == 3072);
    CHECK(cifar.train.target_width() == 1);
    CHECK(cifar.class_names.front() == "plane");
    CHECK(cifar.class_names.size() == 10);
    // Training row 4 is batch 2's record 1: label 3, first byte 7 + 100.
    CHECK(cifar.train.targets(4, 0) == 3.0f);
    CHECK(cifar.train.inputs(4, 0) == doctest::Approx(107.0f / 255.0f));
    // Green's plane starts at value 1024 of the row, with its offset of 3.
    CHECK(cifar.train.inputs(4, 1024) == doctest::Approx(float((107 + 3 + 0) % 256) / 255.0f));
    CHECK(cifar.train.inputs(4, 3071) == doctest::Approx(float((107 + 6 + 1023) % 256) / 255.0f));
    CHECK(cifar.test.targets(2, 0) == 8.0f);
    for (float v : cifar.train.inputs) CHECK((v >= 0.0f && v <= 1.0f));
}

TEST_CASE("load_cifar10 normalises each channel with the training set's mean and deviation") {
    TempDir dir("ctnn-cifar10");
    write_batches(dir, 2);
    const auto cifar = ctnn::data::load_cifar10(dir.path(), {.normalize = true});
    for (std::size_t c = 0; c < 3; ++c) {
        double sum = 0.0, squares = 0.0;
        for (std::size_t r = 0; r < cifar.train.size(); ++r)
            for (std::size_t i = 0; i < 1024; ++i) {
                const double x = cifar.train.inputs(r, c * 1024 + i);
                sum += x, squares += x * x;
            }
        const double n = double(cifar.train.size() * 1024);
        CHECK(sum / n == doctest::Approx(0.0).epsilon(1e-6).scale(1.0));
        CHECK(std::sqrt(squares / n) == doctest::Approx(1.0).epsilon(1e-5));
    }
    // CIFAR-10's own class names when batches.meta.txt is absent.
    CHECK(cifar.class_names.back() == "truck");
}

TEST_CASE("load_cifar10 names every missing file, and where the data set comes from") {
    TempDir dir("ctnn-cifar10");
    write_batches(dir, 1);
    fs::remove(dir / "data_batch_3.bin");
    fs::remove(dir / "test_batch.bin");
    CHECK(message_of([&] { ctnn::data::load_cifar10(dir.path()); }) ==
          "ctnn: " + dir.path().string() + ": has no data_batch_3.bin, test_batch.bin; " +
              std::string(ctnn::data::cifar10::where_to_get_it));
}

TEST_CASE("a CIFAR-10 batch that is truncated, empty or has a label above 9 is refused, naming the file and where") {
    TempDir dir("ctnn-cifar10");
    Bytes two = record(1, 0);
    const Bytes second = record(4, 9);
    two.insert(two.end(), second.begin(), second.end());

    Bytes truncated(two.begin(), two.end() - 100);
    write(dir / "truncated.bin", truncated);
    CHECK(message_of([&] { ctnn::data::read_cifar10_batch(dir / "truncated.bin"); }) ==
          "ctnn: " + (dir / "truncated.bin").string() +
              ": 6046 bytes are not whole records of 3073 bytes (1 records and 2973 bytes more): the "
              "file is truncated or not a CIFAR-10 batch");

    write(dir / "empty.bin", {});
    CHECK(message_of([&] { ctnn::data::read_cifar10_batch(dir / "empty.bin"); }) ==
          "ctnn: " + (dir / "empty.bin").string() + ": is empty; a CIFAR-10 batch holds records of 3073 bytes");

    Bytes bad_label = two;
    bad_label[3073] = 12;
    write(dir / "label.bin", bad_label);
    CHECK(message_of([&] { ctnn::data::read_cifar10_batch(dir / "label.bin"); }) ==
          "ctnn: " + (dir / "label.bin").string() + ": record 1 (byte 3073) has label 12, not a class 0..9");

    CHECK(message_of([&] { ctnn::data::read_cifar10_batch(dir / "absent.bin"); }) ==
          "ctnn: " + (dir / "absent.bin").string() + ": does not exist");

    write(dir / "two.bin", two);
    const auto batch = ctnn::data::read_cifar10_batch(dir / "two.bin");
    CHECK(batch.size() == 2);
    CHECK(batch.targets(1, 0) == 4.0f);
}

TEST_CASE("batches.meta.txt with other than ten names is refused") {
    TempDir dir("ctnn-cifar10");
    write_batches(dir, 1);
    std::ofstream(dir / "batches.meta.txt") << "cat\ndog\n";
    CHECK(message_of([&] { ctnn::data::load_cifar10(dir.path()); }) ==
          "ctnn: " + (dir / "batches.meta.txt").string() + ": names 2 classes; CIFAR-10 has 10");
}

} // namespace data_cifar10_test
