// Where the examples find their data: the first command-line argument, else
// $CTNN_DATA_DIR, else the folder scripts/setup fills (fixed at build time).
#pragma once

#include <cstdlib>
#include <filesystem>

#ifndef CTNN_EXAMPLE_DATA_DIR
#define CTNN_EXAMPLE_DATA_DIR "data"
#endif

inline std::filesystem::path example_data_dir(int argc, char** argv, const char* data_set) {
    if (argc > 1) return argv[1];
    if (const char* root = std::getenv("CTNN_DATA_DIR")) return std::filesystem::path(root) / data_set;
    return std::filesystem::path(CTNN_EXAMPLE_DATA_DIR) / data_set;
}
