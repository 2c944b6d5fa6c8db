// A file in the temporary directory that each fuzz input is written to, for
// parsers that read paths. One per process and name, rewritten per input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>

namespace ctnn::fuzz {

inline std::filesystem::path scratch_path(const std::string& name) {
    const std::filesystem::path directory =
        std::filesystem::temp_directory_path() / ("ctnn_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    return directory / name;
}

inline void write_file(const std::filesystem::path& file, const unsigned char* data, std::size_t size) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

} // namespace ctnn::fuzz
