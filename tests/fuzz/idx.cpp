// libFuzzer target: ctnn::data::read_idx on any bytes, raw or gzipped (zlib
// decides from the magic bytes, as for a real file). A DataError is the
// expected answer to a bad file; anything else that escapes, and any
// sanitizer report, is a bug. What it reads must agree with its own header.
#include <cstdlib>

#include <ctnn/data/idx.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    static const std::filesystem::path file = ctnn::fuzz::scratch_path("input.idx");
    ctnn::fuzz::write_file(file, data, size);
    try {
        const ctnn::data::IdxArray array = ctnn::data::read_idx(file);
        std::size_t count = 1;
        for (const std::size_t dim : array.dims) count *= dim;
        if (array.dims.empty() || count != array.values.size()) std::abort();
    } catch (const ctnn::data::DataError&) {
    }
    return 0;
}
