// A fresh directory under the system's temp directory, removed with all it
// holds when the test ends.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace ctnn::testing {

class TempDir {
public:
    explicit TempDir(const std::string& prefix) {
        // create_directory fails on an existing name, so parallel runs never share one.
        for (int i = 0;; ++i) {
            path_ = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(i));
            if (std::filesystem::create_directory(path_)) return;
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

} // namespace ctnn::testing
