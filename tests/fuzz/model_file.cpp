// libFuzzer target: ctnn's checks on top of HDF5 when it loads weights and
// checkpoints. HDF5's own parser of raw bytes is not ctnn's (and Debian's
// 1.10 has crashes of its own on random bytes), so the input is a program of
// edits to a valid checkpoint, made through HDF5: delete a group, dataset or
// attribute; replace an attribute by one of another type, count or value;
// replace a dataset by one of another rank, extents or element type; flip a
// bit of a value; add layer groups and soft links. Then load_checkpoint and
// load_weights read the file. A DataError is the expected answer; the
// network and optimizer must then be exactly as they were. Anything else
// that escapes, and any sanitizer report, is a bug.
#include <hdf5.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/save.hpp>

#include "scratch_file.hpp"

namespace {

// Conv2D and BatchNorm (parameters and state), a Residual (layer subgroups),
// Dense: every kind of group and dataset the format has.
using Net = ctnn::Sequential<ctnn::Input<1, 4, 4>, ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm,
                             ctnn::ReLU, ctnn::Residual<ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm>,
                             ctnn::Flatten, ctnn::Dense<3>, ctnn::Softmax>;

// The fuzz input, read a byte or a number at a time; zeros once it is used up.
class Reader {
public:
    Reader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const { return at_ >= size_; }
    unsigned byte() { return at_ < size_ ? data_[at_++] : 0u; }
    std::uint64_t u64() {
        std::uint64_t value = 0;
        for (int i = 0; i < 8; ++i) value = value << 8 | byte();
        return value;
    }
    std::string text(std::size_t most) {
        std::string out(std::min<std::size_t>(byte() % (most + 1), size_ - std::min(at_, size_)), '\0');
        for (char& c : out) c = char(byte());
        return out;
    }

private:
    const unsigned char* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

struct Target {
    std::string object;    // a path from the root
    std::string attribute; // empty: the object itself
};

std::vector<Target> targets_in(hid_t file) {
    std::vector<Target> found{{"/", ""}};
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC,
             [](hid_t, const char* name, const H5O_info_t*, void* sink) -> herr_t {
                 static_cast<std::vector<Target>*>(sink)->push_back({std::string("/") + name, ""});
                 return 0;
             },
             &found);
    const std::size_t objects = found.size();
    for (std::size_t i = 0; i < objects; ++i) {
        struct Sink {
            std::vector<Target>* found;
            std::string object;
        } sink{&found, found[i].object};
        H5Aiterate_by_name(file, found[i].object.c_str(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
                           [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
                               auto* s = static_cast<Sink*>(data);
                               s->found->push_back({s->object, name});
                               return 0;
                           },
                           &sink, H5P_DEFAULT);
    }
    return found;
}

void write_attribute(hid_t file, const Target& target, Reader& in) {
    H5Adelete_by_name(file, target.object.c_str(), target.attribute.c_str(), H5P_DEFAULT);
    const hsize_t count = in.byte() % 5;
    const hid_t space = in.byte() % 2 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr);
    hid_t type = -1;
    std::vector<unsigned char> value(64);
    std::string text;
    const char* pointer = nullptr;
    switch (in.byte() % 5) {
    case 0: type = H5Tcopy(H5T_STD_U64LE); break;
    case 1: type = H5Tcopy(H5T_IEEE_F32LE); break;
    case 2: type = H5Tcopy(H5T_STD_I8LE); break;
    case 3: // a variable-length string, as ctnn writes them
        type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        text = in.text(40);
        pointer = text.c_str();
        break;
    default: // a fixed-length string
        type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, 1 + in.byte() % 8);
        break;
    }
    for (unsigned char& b : value) b = static_cast<unsigned char>(in.byte());
    const hid_t attribute = H5Acreate_by_name(file, target.object.c_str(), target.attribute.c_str(), type, space,
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (attribute >= 0) {
        // A variable-length string holds one pointer per value: the same text for each.
        std::vector<const char*> pointers(4, pointer);
        H5Awrite(attribute, type, pointer ? static_cast<const void*>(pointers.data()) : value.data());
        H5Aclose(attribute);
    }
    H5Tclose(type);
    H5Sclose(space);
}

void write_dataset(hid_t file, const Target& target, Reader& in) {
    H5Ldelete(file, target.object.c_str(), H5P_DEFAULT);
    const int rank = int(in.byte() % 4);
    hsize_t dims[3] = {0, 0, 0};
    std::size_t count = 1;
    for (int d = 0; d < rank; ++d) count *= (dims[d] = in.byte() % 9);
    const hid_t space = H5Screate_simple(rank, dims, nullptr);
    const hid_t stored = in.byte() % 3 == 0 ? H5T_STD_I32LE : in.byte() % 2 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    const hid_t set =
        H5Dcreate2(file, target.object.c_str(), stored, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (set >= 0) {
        std::vector<float> values(count);
        for (float& v : values) v = float(int(in.byte()) - 128) / 16.0f;
        H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        H5Dclose(set);
    }
    H5Sclose(space);
}

void flip_a_bit(hid_t file, const Target& target, Reader& in) {
    const hid_t set = H5Dopen2(file, target.object.c_str(), H5P_DEFAULT);
    if (set < 0) return;
    const hid_t space = H5Dget_space(set);
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    if (count > 0 && count < (1 << 20)) {
        std::vector<float> values(static_cast<std::size_t>(count));
        if (H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0) {
            std::uint32_t bits;
            float& value = values[in.u64() % values.size()];
            std::memcpy(&bits, &value, 4);
            bits ^= 1u << (in.byte() % 32);
            std::memcpy(&value, &bits, 4);
            H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        }
    }
    H5Sclose(space);
    H5Dclose(set);
}

void edit(const std::filesystem::path& path, Reader& in) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) std::abort();
    for (int step = 0; step < 8 && !in.done(); ++step) {
        const std::vector<Target> targets = targets_in(file);
        const unsigned op = in.byte() % 6;
        const Target& target = targets[in.byte() % targets.size()];
        switch (op) {
        case 0:
            if (target.attribute.empty()) H5Ldelete(file, target.object.c_str(), H5P_DEFAULT);
            else H5Adelete_by_name(file, target.object.c_str(), target.attribute.c_str(), H5P_DEFAULT);
            break;
        case 1:
            write_attribute(file, target.attribute.empty() ? Target{target.object, in.text(24)} : target, in);
            break;
        case 2:
            if (target.attribute.empty() && target.object != "/") write_dataset(file, target, in);
            break;
        case 3: flip_a_bit(file, target, in); break;
        case 4: { // a layer group, numbered by the input
            const std::string name = "/layers/layer_" + in.text(4);
            H5Gclose(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
            break;
        }
        default: { // a soft link to any object, dangling or not, under /layers
            const std::string name = "/layers/layer_" + in.text(4);
            H5Lcreate_soft(in.byte() % 4 ? target.object.c_str() : "/nowhere", file, name.c_str(), H5P_DEFAULT,
                           H5P_DEFAULT);
            break;
        }
        }
    }
    if (H5Fclose(file) < 0) std::abort();
}

std::vector<float> contents(const Net& net) {
    std::vector<float> all(net.parameters().begin(), net.parameters().end());
    all.insert(all.end(), net.state().begin(), net.state().end());
    return all;
}

std::vector<float> slots_of(const ctnn::Adam& adam) {
    std::vector<float> all;
    ctnn::Adam::slots(adam, [&](const char*, const ctnn::SlotArray& slot) {
        all.insert(all.end(), slot.data(), slot.data() + slot.size());
    });
    all.push_back(float(adam.iterations()));
    return all;
}

// A checkpoint of a network trained for one epoch, so that Adam's slots exist.
const std::filesystem::path& valid_checkpoint() {
    static const std::filesystem::path file = [] {
        const std::filesystem::path path = ctnn::fuzz::scratch_path("valid.h5");
        Net net{ctnn::Seed{1}};
        ctnn::Adam adam{0.01f};
        ctnn::data::Dataset data{xt::xtensor<float, 2>({8, 16}), xt::xtensor<float, 2>({8, 1})};
        for (std::size_t i = 0; i < data.inputs.size(); ++i) data.inputs.data()[i] = float(i % 7) / 7.0f;
        for (std::size_t i = 0; i < 8; ++i) data.targets(i, 0) = float(i % 3);
        ctnn::fit(net, adam, ctnn::CategoricalCrossEntropy{}, data,
                  {.epochs = 1, .batch_size = 4, .verbosity = ctnn::Verbosity::silent});
        ctnn::save_checkpoint(path, net, adam, 1);
        return path;
    }();
    return file;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // an edit that HDF5 refuses is no news
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    static const std::filesystem::path file = ctnn::fuzz::scratch_path("edited.h5");
    std::filesystem::copy_file(valid_checkpoint(), file, std::filesystem::copy_options::overwrite_existing);
    Reader in(data, size);
    edit(file, in);

    Net net{ctnn::Seed{2}};
    ctnn::Adam adam{0.5f};
    const std::vector<float> net_before = contents(net), adam_before = slots_of(adam);
    try {
        ctnn::load_checkpoint(file, net, adam);
    } catch (const ctnn::data::DataError&) {
        if (contents(net) != net_before || slots_of(adam) != adam_before) std::abort();
    }
    try {
        ctnn::load_weights(file, net);
    } catch (const ctnn::data::DataError&) {
    }
    return 0;
}
