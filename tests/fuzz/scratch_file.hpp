// A file in the temporary directory that each fuzz input is written to, for
// parsers that read paths. One per process and name, rewritten per input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace ctnn::fuzz {

// The process's scratch folder, removed when the fuzzer exits.
class ScratchDirectory {
public:
    ScratchDirectory()
        : path_(std::filesystem::temp_directory_path() / ("ctnn_fuzz_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path_);
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::filesystem::path scratch_path(const std::string& name) {
    static const ScratchDirectory directory;
    return directory.path() / name;
}

inline void write_file(const std::filesystem::path& file, const unsigned char* data, std::size_t size) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

} // namespace ctnn::fuzz
