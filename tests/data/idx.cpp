#include <ctnn/data/idx.hpp>
#include <ctnn/data/mnist.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <zlib.h>

namespace data_idx_test {

namespace fs = std::filesystem;
using ctnn::data::DataError;
using ctnn::data::read_idx;
using Bytes = std::vector<unsigned char>;

// A fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
    fs::path path;

    TempDir() {
        // create_directory fails on an existing name, so parallel runs never share one.
        for (int i = 0;; ++i) {
            path = fs::temp_directory_path() / ("ctnn-idx-test-" + std::to_string(i));
            if (fs::create_directory(path)) {
                return;
            }
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

void append_big_endian(Bytes& bytes, std::uint64_t value, std::size_t size) {
    for (std::size_t i = size; i-- > 0;) {
        bytes.push_back(static_cast<unsigned char>(value >> (8 * i)));
    }
}

Bytes idx_header(unsigned char type_code, std::initializer_list<std::uint32_t> dims) {
    Bytes bytes{0, 0, type_code, static_cast<unsigned char>(dims.size())};
    for (const std::uint32_t dim : dims) {
        append_big_endian(bytes, dim, 4);
    }
    return bytes;
}

Bytes ubyte_idx(std::initializer_list<std::uint32_t> dims, const Bytes& values) {
    Bytes bytes = idx_header(0x08, dims);
    bytes.insert(bytes.end(), values.begin(), values.end());
    return bytes;
}

fs::path write_raw(const fs::path& file, const Bytes& bytes) {
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return file;
}

fs::path write_gzip(const fs::path& file, const Bytes& bytes) {
    gzFile out = gzopen(file.c_str(), "wb");
    REQUIRE(out != nullptr);
    CHECK(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(out) == Z_OK);
    return file;
}

Bytes file_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Runs `load`, which must throw a DataError, and returns its message.
template <class Load>
std::string data_error(Load&& load) {
    std::string message;
    try {
        load();
    } catch (const DataError& error) {
        message = error.what();
    }
    REQUIRE_MESSAGE(!message.empty(), "no DataError thrown");
    return message;
}

// A message must say which file is wrong and what is wrong with it.
void check_mentions(const std::string& message, std::initializer_list<std::string_view> words) {
    CHECK_MESSAGE(message.starts_with("ctnn: "), message);
    for (const std::string_view word : words) {
        CHECK_MESSAGE(message.find(word) != std::string::npos, "\"" << message << "\" lacks \"" << word << '"');
    }
}

void check_read_idx_fails(const fs::path& file, std::initializer_list<std::string_view> words) {
    const std::string message = data_error([&] { read_idx(file); });
    check_mentions(message, {file.string()});
    check_mentions(message, words);
}

TEST_SUITE("data/idx") {

TEST_CASE("ubyte values and dims survive a round trip, raw and gzipped") {
    TempDir dir;
    const Bytes file = ubyte_idx({2, 3}, {0, 1, 2, 127, 128, 255});
    // The names mislead: the reader must go by the 1f 8b magic bytes, not the suffix.
    for (const fs::path& path : {write_raw(dir.path / "raw.gz", file), write_gzip(dir.path / "packed.idx", file)}) {
        CAPTURE(path);
        const ctnn::data::IdxArray array = read_idx(path);
        CHECK(array.type == ctnn::data::IdxType::ubyte);
        CHECK(array.dims == std::vector<std::size_t>{2, 3});
        CHECK(array.values == std::vector<float>{0, 1, 2, 127, 128, 255});
    }
}

TEST_CASE("signed and wider integers are decoded big-endian") {
    TempDir dir;
    Bytes sbytes = idx_header(0x09, {4});
    sbytes.insert(sbytes.end(), {0x80, 0xFF, 0x00, 0x7F});
    CHECK(read_idx(write_raw(dir.path / "s8", sbytes)).values == std::vector<float>{-128, -1, 0, 127});

    Bytes i16 = idx_header(0x0B, {4});
    for (const int value : {-32768, -2, 300, 32767}) {
        append_big_endian(i16, static_cast<std::uint16_t>(value), 2);
    }
    CHECK(read_idx(write_raw(dir.path / "i16", i16)).values == std::vector<float>{-32768, -2, 300, 32767});

    const std::vector<std::int32_t> i32_values{-2147483647 - 1, -123456, 70000, 2147483647};
    Bytes i32 = idx_header(0x0C, {2, 2});
    for (const std::int32_t value : i32_values) {
        append_big_endian(i32, static_cast<std::uint32_t>(value), 4);
    }
    const ctnn::data::IdxArray array = read_idx(write_gzip(dir.path / "i32", i32));
    CHECK(array.type == ctnn::data::IdxType::i32);
    CHECK(array.dims == std::vector<std::size_t>{2, 2});
    for (std::size_t i = 0; i < i32_values.size(); ++i) {
        CHECK(array.values[i] == static_cast<float>(i32_values[i]));
    }
}

TEST_CASE("floating-point elements keep their bits") {
    TempDir dir;
    const std::vector<float> f32_values{1.5f, -0.25f, 3.4e38f, 1e-45f};
    Bytes f32 = idx_header(0x0D, {1, 4, 1});
    for (const float value : f32_values) {
        append_big_endian(f32, std::bit_cast<std::uint32_t>(value), 4);
    }
    const ctnn::data::IdxArray array = read_idx(write_raw(dir.path / "f32", f32));
    CHECK(array.type == ctnn::data::IdxType::f32);
    CHECK(array.dims == std::vector<std::size_t>{1, 4, 1});
    CHECK(array.values == f32_values);

    Bytes f64 = idx_header(0x0E, {2});
    for (const double value : {0.1, -1e300}) {
        append_big_endian(f64, std::bit_cast<std::uint64_t>(value), 8);
    }
    const std::vector<float> f64_as_float{static_cast<float>(0.1), -std::numeric_limits<float>::infinity()};
    CHECK(read_idx(write_raw(dir.path / "f64", f64)).values == f64_as_float);
}

TEST_CASE("a zero dimension gives an empty array") {
    TempDir dir;
    const ctnn::data::IdxArray array = read_idx(write_raw(dir.path / "empty", ubyte_idx({0, 28, 28}, {})));
    CHECK(array.dims == std::vector<std::size_t>{0, 28, 28});
    CHECK(array.values.empty());
}

TEST_CASE("unusable files are reported with their name and problem") {
    TempDir dir;
    const Bytes good = ubyte_idx({2, 3}, {1, 2, 3, 4, 5, 6});

    SUBCASE("missing") { check_read_idx_fails(dir.path / "absent", {"cannot open", "No such file"}); }
    SUBCASE("a directory") { check_read_idx_fails(dir.path, {"cannot read", "Is a directory"}); }
    SUBCASE("not IDX at all") {
        check_read_idx_fails(write_raw(dir.path / "gif", {'G', 'I', 'F', '8', '9', 'a'}),
                             {"bad magic number 0x47494638", "expected 0x0000TTDD"});
    }
    SUBCASE("unknown type code") {
        check_read_idx_fails(write_raw(dir.path / "t07", idx_header(0x07, {1})),
                             {"unknown element type code 0x07", "0x08 (ubyte)", "0x0E (f64)"});
    }
    SUBCASE("rank 0") { check_read_idx_fails(write_raw(dir.path / "r0", {0, 0, 8, 0}), {"rank 0"}); }
    SUBCASE("truncated magic number") {
        check_read_idx_fails(write_raw(dir.path / "short", {0, 0}), {"truncated header", "found 2 bytes"});
    }
    SUBCASE("truncated dims") {
        check_read_idx_fails(write_raw(dir.path / "dims", Bytes(good.begin(), good.begin() + 10)),
                             {"truncated header", "expected 12 bytes", "found 10"});
    }
    SUBCASE("truncated data") {
        check_read_idx_fails(write_raw(dir.path / "data", Bytes(good.begin(), good.end() - 1)),
                             {"truncated data", "expected 6 bytes of data for dims 2x3, found 5"});
    }
    SUBCASE("truncated wide elements") {
        Bytes i32 = idx_header(0x0C, {2});
        append_big_endian(i32, 7, 4);
        append_big_endian(i32, 8, 2);
        check_read_idx_fails(write_raw(dir.path / "i32", i32), {"expected 8 bytes of data for dims 2, found 6"});
    }
    SUBCASE("trailing garbage") {
        Bytes longer = good;
        longer.insert(longer.end(), {9, 9, 9});
        check_read_idx_fails(write_raw(dir.path / "long", longer), {"3 trailing bytes", "dims 2x3"});
    }
    SUBCASE("trailing garbage inside a gzip stream") {
        Bytes longer = good;
        longer.push_back(9);
        check_read_idx_fails(write_gzip(dir.path / "long.gz", longer), {"1 trailing byte after"});
    }
    SUBCASE("dims whose product overflows") {
        check_read_idx_fails(write_raw(dir.path / "huge", idx_header(0x0D, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF})),
                             {"too large", "4294967295x4294967295x4294967295"});
    }
    SUBCASE("dims larger than the data") {
        check_read_idx_fails(write_raw(dir.path / "big", idx_header(0x08, {1u << 20, 1u << 20, 1u << 10})),
                             {"truncated data", "found 0"});
    }
}

TEST_CASE("damaged gzip streams are errors, not short or silent reads") {
    // A larger stream and a tiny one: where zlib notices damage depends on how
    // much of the file it has consumed by the time the data is complete.
    Bytes pixels(4096);
    for (std::size_t i = 0; i < pixels.size(); ++i) {
        pixels[i] = static_cast<unsigned char>(i * 37 % 251);
    }
    const Bytes payload = ubyte_idx({4, 32, 32}, pixels);
    const Bytes tiny_payload = ubyte_idx({3}, {1, 2, 3});
    for (const Bytes* idx : {&payload, &tiny_payload}) {
        CAPTURE(idx->size());
        TempDir dir;
        const Bytes packed = file_bytes(write_gzip(dir.path / "valid.gz", *idx));
        REQUIRE_NOTHROW(read_idx(dir.path / "valid.gz"));

        const fs::path cut_data = write_raw(dir.path / "cut-data.gz", Bytes(packed.begin(), packed.end() - 10));
        check_read_idx_fails(cut_data, {"cut short"});
        for (const std::ptrdiff_t cut : {1, 4, 7}) {
            const fs::path cut_trailer = dir.path / ("cut-trailer-" + std::to_string(cut) + ".gz");
            check_read_idx_fails(write_raw(cut_trailer, Bytes(packed.begin(), packed.end() - cut)), {"cut short"});
        }

        Bytes appended = packed;
        appended.insert(appended.end(), {0, 0, 0, 0});
        check_read_idx_fails(write_raw(dir.path / "appended.gz", appended), {"appended after its gzip stream"});

        Bytes bad_crc = packed;
        bad_crc[bad_crc.size() - 8] ^= 0x01;
        check_read_idx_fails(write_raw(dir.path / "crc.gz", bad_crc), {"corrupt gzip stream", "incorrect data check"});
    }
}

TEST_CASE("load_idx_pair scales pixels to [0,1] and keeps class indices") {
    TempDir dir;
    const fs::path images = write_raw(dir.path / "images", ubyte_idx({2, 2, 2}, {0, 51, 255, 102, 1, 2, 3, 4}));
    const fs::path labels = write_gzip(dir.path / "labels", ubyte_idx({2}, {9, 0}));
    const ctnn::data::Dataset data = ctnn::data::load_idx_pair(images, labels);
    REQUIRE(data.size() == 2);
    CHECK(data.input_width() == 4);
    CHECK(data.target_width() == 1);
    CHECK(data.inputs(0, 0) == 0.0f);
    CHECK(data.inputs(0, 1) == doctest::Approx(0.2));
    CHECK(data.inputs(0, 2) == 1.0f);
    CHECK(data.inputs(1, 3) == doctest::Approx(4.0 / 255));
    CHECK(data.targets(0, 0) == 9.0f);
    CHECK(data.targets(1, 0) == 0.0f);
}

TEST_CASE("load_idx_pair rejects files that are not an MNIST pair") {
    TempDir dir;
    const fs::path images = write_raw(dir.path / "images", ubyte_idx({3, 1, 2}, {1, 2, 3, 4, 5, 6}));
    const fs::path labels = write_raw(dir.path / "labels", ubyte_idx({3}, {1, 2, 3}));
    auto pair_error = [](const fs::path& image_file, const fs::path& label_file) {
        return data_error([&] { ctnn::data::load_idx_pair(image_file, label_file); });
    };

    SUBCASE("count mismatch") {
        const fs::path two = write_raw(dir.path / "two-labels", ubyte_idx({2}, {1, 2}));
        check_mentions(pair_error(images, two), {images.string() + " has 3 images but " + two.string() + " has 2 labels"});
    }
    SUBCASE("images of the wrong rank") {
        const fs::path flat = write_raw(dir.path / "flat", ubyte_idx({3, 2}, {1, 2, 3, 4, 5, 6}));
        check_mentions(pair_error(flat, labels), {flat.string(), "expected rank 3", "found rank 2 (dims 3x2)"});
    }
    SUBCASE("labels of the wrong rank") {
        const fs::path square = write_raw(dir.path / "square", ubyte_idx({3, 1}, {1, 2, 3}));
        check_mentions(pair_error(images, square), {square.string(), "expected rank 1", "found rank 2"});
    }
    SUBCASE("labels that are not bytes") {
        Bytes floats = idx_header(0x0D, {3});
        for (int i = 0; i < 3; ++i) {
            append_big_endian(floats, std::bit_cast<std::uint32_t>(1.0f), 4);
        }
        const fs::path file = write_raw(dir.path / "float-labels", floats);
        check_mentions(pair_error(images, file), {file.string(), "expected ubyte elements, found f32"});
    }
}

TEST_CASE("load_mnist finds raw or gzipped files, preferring raw") {
    TempDir dir;
    for (const char* split : {"train", "t10k"}) {
        write_raw(dir.path / (std::string(split) + "-images-idx3-ubyte"), ubyte_idx({1, 1, 1}, {255}));
        write_gzip(dir.path / (std::string(split) + "-labels-idx1-ubyte.gz"), ubyte_idx({1}, {2}));
    }
    write_raw(dir.path / "train-labels-idx1-ubyte", ubyte_idx({1}, {1}));
    const ctnn::data::TrainTest mnist = ctnn::data::load_mnist(dir.path);
    CHECK(mnist.train.targets(0, 0) == 1.0f);
    CHECK(mnist.test.targets(0, 0) == 2.0f);
    CHECK(mnist.test.inputs(0, 0) == 1.0f);
}

TEST_CASE("a missing data set names the directory, both candidates and a remedy") {
    TempDir dir;
    const std::string message = data_error([&] { ctnn::data::load_mnist(dir.path); });
    check_mentions(message, {dir.path.string(), "train-images-idx3-ubyte nor train-images-idx3-ubyte.gz",
                             "run scripts/setup to download MNIST"});
    check_mentions(data_error([&] { ctnn::data::load_fashion_mnist(dir.path / "nowhere"); }),
                   {"nowhere", "the directory does not exist", "install Debian's dataset-fashion-mnist"});
}

TEST_CASE("real MNIST, when CTNN_MNIST_DIR points at it") {
    const char* dir = std::getenv("CTNN_MNIST_DIR");
    if (dir == nullptr || !fs::is_directory(dir)) {
        MESSAGE("CTNN_MNIST_DIR is not set to a directory; skipping the real-MNIST check");
        return;
    }
    const ctnn::data::TrainTest mnist = ctnn::data::load_mnist(dir);
    CHECK(mnist.train.size() == 60000);
    CHECK(mnist.test.size() == 10000);
    CHECK(mnist.train.input_width() == 28 * 28);
    CHECK(mnist.train.targets(0, 0) == 5.0f);
    const auto [darkest, brightest] = std::minmax_element(mnist.train.inputs.begin(), mnist.train.inputs.end());
    CHECK(*darkest == 0.0f);
    CHECK(*brightest == 1.0f);
    CHECK(*std::max_element(mnist.test.targets.begin(), mnist.test.targets.end()) == 9.0f);
}

} // TEST_SUITE

} // namespace data_idx_test
