// The exception ctnn's data loaders throw for a file they cannot use.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn::data {

// Every message starts with "ctnn: " and names the file, so a user who sees only
// what() can tell which file is wrong and why without reaching for a debugger.
class DataError : public std::runtime_error {
public:
    // For problems that involve more than one file: "ctnn: <message>".
    explicit DataError(std::string_view message)
        : std::runtime_error("ctnn: " + std::string(message)) {}

    // "ctnn: <file>: <problem>"
    DataError(const std::filesystem::path& file, std::string_view problem)
        : DataError(file.string() + ": " + std::string(problem)) {}
};

} // namespace ctnn::data
