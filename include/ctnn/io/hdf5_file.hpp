// A small RAII layer over HDF5's C API, as much of it as ctnn's model files
// need: groups, float32 datasets, and scalar or 1-D attributes. Every failure
// becomes a data::DataError naming the file and HDF5's own reason; HDF5's
// printing of its error stack is off while ctnn calls it.
// Needs the ctnn::hdf5 CMake target (Debian's libhdf5-dev).
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/data/error.hpp"

namespace ctnn::hdf5 {

// While one lives, HDF5 keeps its error stack to itself (ctnn reads it and
// throws); the caller's own setting comes back afterwards.
class QuietErrors {
public:
    QuietErrors() {
        H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;
    ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

// An HDF5 identifier that closes itself.
template <herr_t (*Close)(hid_t)>
class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : id_(id) {}
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
        }
        return *this;
    }
    ~Handle() { reset(); }

    hid_t get() const { return id_; }
    // Closes now and reports whether HDF5 managed to (a file close flushes).
    bool close() { return Close(std::exchange(id_, H5I_INVALID_HID)) >= 0; }

private:
    void reset() {
        if (id_ >= 0) Close(id_);
        id_ = H5I_INVALID_HID;
    }
    hid_t id_ = H5I_INVALID_HID;
};

namespace detail {

// The outermost and innermost messages of HDF5's error stack: what failed and
// where HDF5 found the cause ("truncated file: eof = ...").
inline std::string error_stack_text() {
    std::vector<std::string> messages;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_DOWNWARD,
        [](unsigned, const H5E_error2_t* error, void* sink) -> herr_t {
            if (error->desc && *error->desc)
                static_cast<std::vector<std::string>*>(sink)->push_back(error->desc);
            return 0;
        },
        &messages);
    H5Eclear2(H5E_DEFAULT);
    if (messages.empty()) return "HDF5 gave no reason";
    if (messages.size() == 1) return messages.front();
    return messages.front() + " (" + messages.back() + ")";
}

} // namespace detail

// A group (the file's root is one). Objects keep the file's path for messages.
class Group {
public:
    Group(hid_t id, std::shared_ptr<const std::filesystem::path> file)
        : id_(id), file_(std::move(file)) {}

    const std::filesystem::path& file() const { return *file_; }
    hid_t id() const { return id_.get(); }

    // "ctnn: <file>: <problem>", with HDF5's reason when it has one.
    [[noreturn]] void fail(const std::string& problem) const { throw data::DataError(*file_, problem); }
    [[noreturn]] void fail_hdf5(const std::string& action) const {
        fail(action + ": " + detail::error_stack_text());
    }

    Group create_group(const std::string& name) const {
        return {check(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create group " + name),
                file_};
    }
    Group open_group(const std::string& name) const {
        if (!contains(name)) fail("no group " + name);
        return {check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "cannot open group " + name), file_};
    }
    bool contains(const std::string& name) const {
        return check(H5Lexists(id(), name.c_str(), H5P_DEFAULT), "cannot look up " + name) > 0;
    }
    // Names of the members, in HDF5's name order.
    std::vector<std::string> members() const {
        H5G_info_t info;
        check(H5Gget_info(id(), &info), "cannot list a group");
        std::vector<std::string> names;
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            auto name_of = [&](char* out, std::size_t size) {
                return check(H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, out,
                                                size, H5P_DEFAULT),
                             "cannot list a group");
            };
            std::string name(std::size_t(name_of(nullptr, 0)), '\0');
            name_of(name.data(), name.size() + 1);
            names.push_back(std::move(name));
        }
        return names;
    }

    // A float32 dataset of the given shape (row-major, the last extent fastest).
    void write(const std::string& name, std::span<const float> values,
               std::span<const std::size_t> dims) const {
        std::vector<hsize_t> extents(dims.begin(), dims.end());
        Handle<H5Sclose> space(check(H5Screate_simple(int(extents.size()), extents.data(), nullptr),
                                     "cannot describe dataset " + name));
        Handle<H5Dclose> set(check(H5Dcreate2(id(), name.c_str(), H5T_IEEE_F32LE, space.get(),
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                   "cannot create dataset " + name));
        check(H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              "cannot write dataset " + name);
    }
    std::vector<std::size_t> dims(const std::string& name) const {
        Handle<H5Dclose> set = open_dataset(name);
        Handle<H5Sclose> space(check(H5Dget_space(set.get()), "cannot read dataset " + name));
        const int rank = check(H5Sget_simple_extent_ndims(space.get()), "cannot read dataset " + name);
        std::vector<hsize_t> extents(std::size_t(rank), 0);
        check(H5Sget_simple_extent_dims(space.get(), extents.data(), nullptr),
              "cannot read dataset " + name);
        return {extents.begin(), extents.end()};
    }
    // Reads a dataset of exactly out.size() values.
    void read(const std::string& name, std::span<float> out) const {
        std::size_t count = 1;
        for (std::size_t d : dims(name)) count *= d;
        if (count != out.size())
            fail("dataset " + name + " holds " + std::to_string(count) + " values, expected " +
                 std::to_string(out.size()));
        Handle<H5Dclose> set = open_dataset(name);
        check(H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
              "cannot read dataset " + name);
    }

    bool has_attribute(const std::string& name) const {
        return check(H5Aexists(id(), name.c_str()), "cannot look up attribute " + name) > 0;
    }
    void set_attribute(const std::string& name, std::string_view text) const {
        Handle<H5Tclose> type = string_type();
        const std::string copy(text);
        const char* pointer = copy.c_str();
        write_attribute(name, type.get(), type.get(), scalar().get(), &pointer);
    }
    void set_attribute(const std::string& name, std::uint64_t value) const {
        write_attribute(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, scalar().get(), &value);
    }
    void set_attribute(const std::string& name, float value) const {
        write_attribute(name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, scalar().get(), &value);
    }
    void set_attribute(const std::string& name, std::span<const std::uint64_t> values) const {
        const hsize_t size = values.size();
        Handle<H5Sclose> space(check(H5Screate_simple(1, &size, nullptr),
                                     "cannot describe attribute " + name));
        write_attribute(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), values.data());
    }

    std::string string_attribute(const std::string& name) const {
        Handle<H5Aclose> attribute = open_attribute(name);
        Handle<H5Tclose> stored(check(H5Aget_type(attribute.get()), "cannot read attribute " + name));
        if (H5Tget_class(stored.get()) != H5T_STRING || H5Tis_variable_str(stored.get()) <= 0)
            fail("attribute " + name + " is not a variable-length string");
        // H5Aread writes a pointer per value: exactly one, or it writes past `text`.
        expect_values(attribute.get(), name, 1);
        Handle<H5Tclose> type = string_type();
        char* text = nullptr;
        check(H5Aread(attribute.get(), type.get(), &text), "cannot read attribute " + name);
        std::string result = text ? text : "";
        H5free_memory(text);
        return result;
    }
    std::uint64_t u64_attribute(const std::string& name) const {
        std::uint64_t value = 0;
        read_attribute(name, H5T_NATIVE_UINT64, 1, &value);
        return value;
    }
    float float_attribute(const std::string& name) const {
        float value = 0.0f;
        read_attribute(name, H5T_NATIVE_FLOAT, 1, &value);
        return value;
    }
    std::vector<std::uint64_t> u64s_attribute(const std::string& name) const {
        Handle<H5Aclose> attribute = open_attribute(name);
        Handle<H5Sclose> space(check(H5Aget_space(attribute.get()), "cannot read attribute " + name));
        const hssize_t count = check(H5Sget_simple_extent_npoints(space.get()),
                                     "cannot read attribute " + name);
        std::vector<std::uint64_t> values(std::size_t(count), 0);
        read_attribute(name, H5T_NATIVE_UINT64, values.size(), values.data());
        return values;
    }

private:
    // Negative results are HDF5's failures.
    template <class Result>
    Result check(Result result, const std::string& action) const {
        if (result < 0) fail_hdf5(action);
        return result;
    }

    Handle<H5Dclose> open_dataset(const std::string& name) const {
        if (!contains(name)) fail("no dataset " + name);
        return Handle<H5Dclose>(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT),
                                      "cannot open dataset " + name));
    }
    Handle<H5Aclose> open_attribute(const std::string& name) const {
        if (!has_attribute(name)) fail("no attribute " + name);
        return Handle<H5Aclose>(check(H5Aopen(id(), name.c_str(), H5P_DEFAULT),
                                      "cannot open attribute " + name));
    }
    Handle<H5Sclose> scalar() const {
        return Handle<H5Sclose>(check(H5Screate(H5S_SCALAR), "cannot describe an attribute"));
    }
    // UTF-8 strings of any length: h5py reads them as str.
    Handle<H5Tclose> string_type() const {
        Handle<H5Tclose> type(check(H5Tcopy(H5T_C_S1), "cannot make a string type"));
        check(H5Tset_size(type.get(), H5T_VARIABLE), "cannot make a string type");
        check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "cannot make a string type");
        return type;
    }
    void write_attribute(const std::string& name, hid_t stored, hid_t memory, hid_t space,
                         const void* value) const {
        Handle<H5Aclose> attribute(check(H5Acreate2(id(), name.c_str(), stored, space, H5P_DEFAULT,
                                                    H5P_DEFAULT),
                                         "cannot create attribute " + name));
        check(H5Awrite(attribute.get(), memory, value), "cannot write attribute " + name);
    }
    void read_attribute(const std::string& name, hid_t memory, std::size_t count, void* out) const {
        Handle<H5Aclose> attribute = open_attribute(name);
        expect_values(attribute.get(), name, count);
        check(H5Aread(attribute.get(), memory, out), "cannot read attribute " + name);
    }
    void expect_values(hid_t attribute, const std::string& name, std::size_t count) const {
        Handle<H5Sclose> space(check(H5Aget_space(attribute), "cannot read attribute " + name));
        const hssize_t stored = check(H5Sget_simple_extent_npoints(space.get()),
                                      "cannot read attribute " + name);
        if (std::size_t(stored) != count)
            fail("attribute " + name + " holds " + std::to_string(stored) + " values, expected " +
                 std::to_string(count));
    }

    Handle<H5Gclose> id_;
    std::shared_ptr<const std::filesystem::path> file_;
};

// An open HDF5 file; its root group is the file itself.
class File {
public:
    // A new file, replacing one of the same name.
    static File create(const std::filesystem::path& path) {
        return File(path, H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create the file");
    }
    static File open_read_only(const std::filesystem::path& path) {
        std::error_code error;
        if (!std::filesystem::exists(path, error) && !error)
            throw data::DataError(path, "cannot open: no such file");
        return File(path, H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                    "cannot open as an HDF5 file");
    }

    Group root() const {
        const hid_t id = H5Gopen2(file_.get(), "/", H5P_DEFAULT);
        if (id < 0) throw data::DataError(*path_, "cannot open the root group: " +
                                                      detail::error_stack_text());
        return {id, path_};
    }

    // Writes everything through to the operating system and closes the file;
    // groups taken from it must be gone by then.
    void close() {
        if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0 || !file_.close())
            throw data::DataError(*path_, "cannot write the file: " + detail::error_stack_text());
    }

private:
    File(const std::filesystem::path& path, hid_t id, const std::string& action)
        : file_(id), path_(std::make_shared<const std::filesystem::path>(path)) {
        if (id < 0) throw data::DataError(path, action + ": " + detail::error_stack_text());
    }

    Handle<H5Fclose> file_;
    std::shared_ptr<const std::filesystem::path> path_;
};

} // namespace ctnn::hdf5
