// Reader for IDX files, the format MNIST ships in: a big-endian header giving the
// element type and the dimensions, then the elements, raw or gzip-compressed.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <zlib.h>

#include <ctnn/data/error.hpp>

namespace ctnn::data {

// The element type an IDX file declares in the third byte of its magic number.
enum class IdxType : std::uint8_t {
    ubyte = 0x08,
    sbyte = 0x09,
    i16 = 0x0B,
    i32 = 0x0C,
    f32 = 0x0D,
    f64 = 0x0E,
};

// Values keep their stored magnitude (a ubyte pixel stays 0..255): only the
// caller knows what the numbers mean, so scaling is its business.
struct IdxArray {
    std::vector<std::size_t> dims;
    std::vector<float> values; // row-major: the last dimension varies fastest
    IdxType type = IdxType::ubyte; // as stored in the file, before conversion to float
};

namespace detail {

inline std::string describe_dims(const std::vector<std::size_t>& dims) {
    std::string text;
    for (const std::size_t dim : dims) {
        if (!text.empty()) text += 'x';
        text += std::to_string(dim);
    }
    return text;
}

inline std::string hex(std::uint32_t value, int digits) {
    std::string text = "0x";
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
        text += "0123456789ABCDEF"[(value >> shift) & 0xFu];
    }
    return text;
}

template <class Bits>
Bits load_big_endian(const unsigned char* bytes) {
    Bits bits = 0;
    for (std::size_t i = 0; i < sizeof(Bits); ++i) {
        bits = static_cast<Bits>((bits << 8) | bytes[i]);
    }
    return bits;
}

// A file read through zlib, which inflates gzip files (recognised by their 1f 8b
// magic bytes, whatever their name) and passes other files through unchanged, so
// one reading path serves both.
class IdxInput {
public:
    explicit IdxInput(const std::filesystem::path& file) : file_(file) {
        errno = 0;
        handle_ = gzopen(file.c_str(), "rb");
        if (handle_ == nullptr) {
            // zlib leaves errno at 0 when it fails for want of memory rather than in open().
            fail(std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "out of memory"));
        }
    }
    IdxInput(const IdxInput&) = delete;
    IdxInput& operator=(const IdxInput&) = delete;
    ~IdxInput() { gzclose(handle_); }

    // Fills `buffer` as far as the input allows: a short count means the input
    // ended. gzread counts in int, so callers keep buffers well below 2 GiB.
    std::size_t read(std::span<unsigned char> buffer) {
        const int got = gzread(handle_, buffer.data(), static_cast<unsigned>(buffer.size()));
        int status = Z_OK;
        const char* message = gzerror(handle_, &status);
        // Z_BUF_ERROR means only that the gzip stream stopped early; the caller, who
        // knows how many bytes it expected, reports that (see fail_truncated).
        if (got < 0 || (status != Z_OK && status != Z_BUF_ERROR)) {
            const char* what = status == Z_DATA_ERROR ? "corrupt gzip stream: " : "cannot read: ";
            fail(what + zlib_reason(message));
        }
        produced_ += static_cast<std::size_t>(got);
        return static_cast<std::size_t>(got);
    }

    [[noreturn]] void fail(std::string_view problem) const { throw DataError(file_, problem); }

    // The most bytes the file can deliver: its size, or for a gzip file its
    // size times deflate's largest ratio (1032:1). A header may promise more;
    // this bounds what is worth reserving for it.
    std::uint64_t most_bytes() const {
        std::error_code error;
        const std::uint64_t size = std::filesystem::file_size(file_, error);
        if (error) return std::numeric_limits<std::uint64_t>::max();
        return gzdirect(handle_) != 0 ? size : size * 1032;
    }

    // True when a gzip stream ended before its trailer, as after an interrupted download.
    bool cut_short() const {
        int status = Z_OK;
        gzerror(handle_, &status);
        return status == Z_BUF_ERROR;
    }

    // The byte counts in a truncation message are of decompressed data, which a
    // user cannot compare with the file on disk; naming the cut gzip stream
    // points at the file's real problem.
    [[noreturn]] void fail_truncated(std::string problem) const {
        if (cut_short()) {
            problem += " (the gzip stream ends before its trailer: the file was cut short)";
        }
        fail(problem);
    }

    // For a gzip file whose data has been read to the end. zlib reports a cut
    // stream only if it was still inflating when the file ended: a cut inside the
    // trailer, after the last data byte, passes gzread silently. The trailer ends
    // with the data length mod 2^32, so comparing the file's last 4 bytes with
    // the length read catches that cut, and bytes appended after the stream,
    // which zlib skips. A file of several concatenated gzip members would fail
    // too; IDX files are never written that way.
    void check_gzip_end() const {
        if (gzdirect(handle_) != 0) {
            return;
        }
        if (cut_short()) {
            fail("truncated: the gzip stream ends before its trailer, so the file was cut short");
        }
        std::ifstream in(file_, std::ios::binary);
        std::array<unsigned char, 4> field{};
        if (!in.seekg(-4, std::ios::end) || !in.read(reinterpret_cast<char*>(field.data()), 4)) {
            fail("cannot read the gzip trailer");
        }
        std::reverse(field.begin(), field.end()); // the trailer is little-endian
        const std::uint32_t recorded = load_big_endian<std::uint32_t>(field.data());
        if (recorded != static_cast<std::uint32_t>(produced_)) {
            fail("the gzip trailer records " + std::to_string(recorded) + " bytes of data, but the stream holds " +
                 std::to_string(produced_) + ": the file was cut short, or has bytes appended after its gzip stream");
        }
    }

private:
    // zlib starts its messages with the path, which DataError names already.
    std::string zlib_reason(std::string_view message) const {
        const std::string prefix = file_.string() + ": ";
        if (message.starts_with(prefix)) {
            message.remove_prefix(prefix.size());
        }
        return std::string(message);
    }

    std::filesystem::path file_;
    gzFile handle_ = nullptr;
    std::uint64_t produced_ = 0; // bytes delivered by read(), decompressed
};

struct IdxTypeInfo;

struct IdxHeader {
    const IdxTypeInfo* type;
    std::vector<std::size_t> dims;
    std::size_t count; // elements: the product of dims
};

struct IdxTypeInfo {
    IdxType type;
    std::string_view name;
    std::size_t size; // bytes per element in the file
    void (*read)(IdxInput&, const IdxHeader&, std::vector<float>&);
};

// Decodes chunk by chunk, so the bytes pass through the cache once on their way
// to floats, and a corrupt header promising terabytes fails on the missing data
// rather than on an allocation: the header's count is trusted, when
// reserving, only as far as the file's size allows.
template <class Element, class Bits>
void read_elements(IdxInput& input, const IdxHeader& header, std::vector<float>& values) {
    constexpr std::size_t chunk_elements = (std::size_t{1} << 20) / sizeof(Element);
    const std::uint64_t possible = input.most_bytes() / sizeof(Element);
    values.reserve(std::size_t(std::min<std::uint64_t>(header.count, possible)));
    std::vector<unsigned char> chunk(std::min(header.count, chunk_elements) * sizeof(Element));
    while (values.size() < header.count) {
        const std::size_t done = values.size();
        const std::size_t n = std::min(header.count - done, chunk_elements);
        const std::size_t got = input.read({chunk.data(), n * sizeof(Element)});
        if (got < n * sizeof(Element)) {
            input.fail_truncated("truncated data: expected " + std::to_string(header.count * sizeof(Element)) +
                                 " bytes of data for dims " + describe_dims(header.dims) + ", found " +
                                 std::to_string(done * sizeof(Element) + got));
        }
        values.resize(done + n);
        float* out = values.data() + done;
        const unsigned char* in = chunk.data();
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = static_cast<float>(std::bit_cast<Element>(load_big_endian<Bits>(in + i * sizeof(Element))));
        }
    }
}

inline constexpr std::array<IdxTypeInfo, 6> idx_types{{
    {IdxType::ubyte, "ubyte", 1, &read_elements<std::uint8_t, std::uint8_t>},
    {IdxType::sbyte, "sbyte", 1, &read_elements<std::int8_t, std::uint8_t>},
    {IdxType::i16, "i16", 2, &read_elements<std::int16_t, std::uint16_t>},
    {IdxType::i32, "i32", 4, &read_elements<std::int32_t, std::uint32_t>},
    {IdxType::f32, "f32", 4, &read_elements<float, std::uint32_t>},
    {IdxType::f64, "f64", 8, &read_elements<double, std::uint64_t>},
}};

// nullptr for a code IDX does not define.
inline const IdxTypeInfo* find_idx_type(std::uint8_t code) {
    const auto found = std::ranges::find(idx_types, static_cast<IdxType>(code), &IdxTypeInfo::type);
    return found == idx_types.end() ? nullptr : &*found;
}

inline std::string_view idx_type_name(IdxType type) {
    return find_idx_type(static_cast<std::uint8_t>(type))->name;
}

inline IdxHeader read_header(IdxInput& input) {
    std::array<unsigned char, 4> magic{};
    const std::size_t magic_got = input.read(magic);
    if (magic_got < magic.size()) {
        input.fail_truncated("truncated header: expected a 4-byte magic number, found " +
                             std::to_string(magic_got) + " bytes");
    }
    const std::string magic_text = hex(load_big_endian<std::uint32_t>(magic.data()), 8);
    if (magic[0] != 0 || magic[1] != 0) {
        input.fail("bad magic number " + magic_text +
                   ": expected 0x0000TTDD (two zero bytes, element type TT, rank DD); is this an IDX file?");
    }
    const IdxTypeInfo* type = find_idx_type(magic[2]);
    if (type == nullptr) {
        std::string known;
        for (const IdxTypeInfo& info : idx_types) {
            known += (known.empty() ? "" : ", ") + hex(static_cast<std::uint32_t>(info.type), 2) + " (" +
                     std::string(info.name) + ")";
        }
        input.fail("unknown element type code " + hex(magic[2], 2) + " in magic number " + magic_text +
                   ": expected one of " + known);
    }
    const std::size_t rank = magic[3];
    if (rank == 0) {
        input.fail("magic number " + magic_text + " declares rank 0: an IDX array has at least one dimension");
    }

    std::vector<unsigned char> dim_bytes(4 * rank);
    const std::size_t dims_got = input.read(dim_bytes);
    if (dims_got < dim_bytes.size()) {
        input.fail_truncated("truncated header: expected " + std::to_string(4 + dim_bytes.size()) +
                             " bytes (magic number and " + std::to_string(rank) + " dimensions), found " +
                             std::to_string(4 + dims_got));
    }
    IdxHeader header{type, std::vector<std::size_t>(rank), 1};
    for (std::size_t i = 0; i < rank; ++i) {
        header.dims[i] = load_big_endian<std::uint32_t>(dim_bytes.data() + 4 * i);
    }

    // A zero dimension makes an empty array however large the others are.
    if (std::ranges::find(header.dims, std::size_t{0}) != header.dims.end()) {
        header.count = 0;
        return header;
    }
    const std::size_t max_count =
        std::min(std::vector<float>().max_size(), std::numeric_limits<std::size_t>::max() / type->size);
    for (const std::size_t dim : header.dims) {
        if (header.count > max_count / dim) {
            input.fail("dims " + describe_dims(header.dims) + " of " + std::string(type->name) +
                       " are too large to hold in memory; the header is corrupt");
        }
        header.count *= dim;
    }
    return header;
}

// Reading past the data finds bytes the dims do not account for, and lets zlib
// reach the gzip trailer's CRC, which it may not while delivering exactly the data.
inline void expect_end(IdxInput& input, const IdxHeader& header) {
    std::array<unsigned char, 4096> rest;
    std::size_t trailing = 0;
    for (std::size_t got = input.read(rest); got > 0; got = input.read(rest)) {
        trailing += got;
    }
    if (trailing > 0) {
        input.fail(std::to_string(trailing) + (trailing == 1 ? " trailing byte" : " trailing bytes") +
                   " after the data for dims " + describe_dims(header.dims) + ": the file is corrupt or its dims are wrong");
    }
    input.check_gzip_end();
}

} // namespace detail

inline IdxArray read_idx(const std::filesystem::path& file) {
    detail::IdxInput input(file);
    detail::IdxHeader header = detail::read_header(input);
    IdxArray array;
    header.type->read(input, header, array.values);
    detail::expect_end(input, header);
    array.dims = std::move(header.dims);
    array.type = header.type->type;
    return array;
}

} // namespace ctnn::data
