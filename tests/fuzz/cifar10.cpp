// libFuzzer target: the CIFAR-10 loader. The input's first byte chooses
// normalisation and where the class-name file ends; the rest are the batch
// bytes, which all six batch files of a scratch directory link to. Only a
// DataError may escape; a loaded set must have one label 0..9 per row.
#include <cstdlib>

#include <ctnn/data/cifar10.hpp>

#include "scratch_file.hpp"

namespace {

const std::filesystem::path& scratch_directory() {
    static const std::filesystem::path directory = [] {
        const std::filesystem::path batch = ctnn::fuzz::scratch_path("batch.bin");
        const std::filesystem::path dir = batch.parent_path() / "cifar-10-batches-bin";
        std::filesystem::create_directories(dir);
        std::vector<std::string> names{"test_batch.bin"};
        for (int b = 1; b <= 5; ++b) names.push_back("data_batch_" + std::to_string(b) + ".bin");
        for (const std::string& name : names) {
            std::filesystem::remove(dir / name);
            std::filesystem::create_symlink(batch, dir / name);
        }
        return dir;
    }();
    return directory;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    if (size == 0) return 0;
    const std::filesystem::path& directory = scratch_directory();
    const bool normalize = data[0] & 1;
    // Bits 1..7: how many of the bytes after the first also make the names file
    // (0: none, and no file, so the default names apply).
    const std::size_t name_bytes = std::min<std::size_t>(data[0] >> 1, size - 1);
    std::filesystem::remove(directory / "batches.meta.txt");
    if (name_bytes > 0) ctnn::fuzz::write_file(directory / "batches.meta.txt", data + 1, name_bytes);
    ctnn::fuzz::write_file(directory.parent_path() / "batch.bin", data + 1, size - 1);
    try {
        const ctnn::data::Cifar10 cifar = ctnn::data::load_cifar10(directory, {.normalize = normalize});
        if (cifar.class_names.size() != 10 || cifar.train.size() != 5 * cifar.test.size()) std::abort();
        for (std::size_t r = 0; r < cifar.test.size(); ++r)
            if (!(cifar.test.targets(r, 0) >= 0.0f && cifar.test.targets(r, 0) <= 9.0f)) std::abort();
    } catch (const ctnn::data::DataError&) {
    }
    return 0;
}
