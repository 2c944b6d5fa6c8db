// Saving and loading a network's weights, and with them an optimizer's state
// to resume training, as HDF5 files that h5py reads. Needs ctnn::hdf5.
//
//   ctnn::save_weights("mlp.h5", net);            ctnn::load_weights("mlp.h5", net);
//   ctnn::save_checkpoint("run.h5", net, adam, epochs_done);
//   std::size_t done = ctnn::load_checkpoint("run.h5", net, adam);  // then fit with
//                                                                   // .initial_epoch = done
// Layout (format version 3):
//
//   /                      attributes: ctnn_format_version (u64), topology (string,
//                          "Input 784 | Dense 784->200 (157000) | Sigmoid 200->200 (0) | ...";
//                          a layer that holds others lists them in brackets, "Shared (1x28x84,
//                          1x28x84)->(64, 64) (...) [Branch 1x28x84->64 (...) [Conv2D ...]]"),
//                          topology_hash (u64, FNV-1a of topology), param_count (u64),
//                          layer_count (u64); from a ModelCheckpoint also epoch (u64,
//                          from 1), monitor (string) and monitor_value (float32)
//   /layers/layer_01_Dense one group per layer after the Input, numbered from 1; attributes
//                          type (string), input_shape, output_shape (u64 arrays),
//                          param_count (u64), crc32 (u64: zlib's CRC-32 of the layer's
//                          float32 parameters, then of its state, in ctnn's order);
//                          one float32 dataset per array the layer declares, by its name
//                          and in its shape (core/parameters.hpp): Dense kernel (inputs,
//                          units) and bias; Conv2D kernel (filters, channels, kernel_h,
//                          kernel_w) and bias; BatchNorm gamma, beta, moving_mean,
//                          moving_variance; LSTM, GRU, SimpleRNN kernel (features,
//                          gates * units), recurrent_kernel (units, gates * units), bias
//                          (gates * units; GRU (2, 3 * units)), Keras's shapes; a layer's
//                          sublayers (a Residual's body) in subgroups layer_1_Conv2D, ...
//   /optimizer             checkpoints only; attributes type ("SGD", "RMSprop", "Adam",
//                          "AdamW"), the hyper-parameters by Keras's names (float32; a flag
//                          as u64 0/1), iterations (u64, Adam's step count),
//                          epochs_completed (u64); one float32 dataset (param_count) per
//                          slot in use, in the network's flat parameter order, and its CRC-32
//                          as attribute <slot>_crc32 (u64): SGD velocity; RMSprop
//                          mean_square, mean_gradient, momentum; Adam m, v
//
// Version 2 files are version 3's without the brackets, and load too.
// Version 1 files (ctnn before its arrays were declared) load too: they held
// the same datasets for Dense, Conv2D and BatchNorm, and every other layer's
// parameters as one flat `params` dataset and its BatchNorms' statistics as
// `state_0`, `state_1`, ... in the same order.
//
// Saving writes a temporary file beside the target, flushes it to disk and
// renames it over the target, so a reader sees the old file or the new one,
// never half of one. Loading checks the format version, compares the layers
// with the network's in order (the first that differs is named, with type
// and shapes on both sides), checks every array's CRC-32, and changes the
// network and optimizer only when all of it passed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/mp11/list.hpp>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "ctnn/core/parameters.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/shapes.hpp"
#include "ctnn/core/walk.hpp"
#include "ctnn/data/error.hpp"
#include "ctnn/io/hdf5_file.hpp"
#include "ctnn/io/summary.hpp"
#include "ctnn/optimizers/optimizer.hpp"

namespace ctnn {

inline constexpr std::uint64_t model_format_version = 3;

namespace detail {
// Counts characters when `out` is null, writes them otherwise, so that one
// function both sizes and fills a compile-time string.
struct TextSink {
    char* out = nullptr;
    std::size_t size = 0;

    constexpr void put(std::string_view text) {
        for (char c : text) {
            if (out) out[size] = c;
            ++size;
        }
    }
    constexpr void put(std::size_t number) {
        char digits[20]{};
        std::size_t count = 0;
        do {
            digits[count++] = char('0' + number % 10);
            number /= 10;
        } while (number != 0);
        while (count > 0) put(std::string_view(&digits[--count], 1));
    }
};

template <std::size_t... Dims>
constexpr void put_dims(TextSink& sink, Shape<Dims...>) {
    std::size_t i = 0;
    ((sink.put(i++ == 0 ? "" : "x"), sink.put(Dims)), ...);
}

// "(1x28x84, 1x28x84)": several tensors.
template <class... Parts>
constexpr void put_dims(TextSink& sink, Shapes<Parts...>) {
    std::size_t i = 0;
    sink.put("(");
    ((sink.put(i++ == 0 ? "" : ", "), put_dims(sink, Parts{})), ...);
    sink.put(")");
}

// "Dense 784->200 (157000)"; a layer that holds others (Branch, Shared,
// Parallel, Residual) follows with theirs in brackets.
template <class Bound, bool Nested>
constexpr void write_layer(TextSink& sink) {
    sink.put(Bound::layer::type_name);
    sink.put(" ");
    put_dims(sink, typename Bound::input_shape{});
    sink.put("->");
    put_dims(sink, typename Bound::output_shape{});
    sink.put(" (");
    sink.put(Bound::param_count);
    sink.put(")");
    if constexpr (Nested && Bound::valid && composite<typename Bound::layer, typename Bound::input_shape>) {
        sink.put(" [");
        [&]<class... Sub>(boost::mp11::mp_list<Sub...>) {
            std::size_t i = 0;
            ((sink.put(i++ == 0 ? "" : " | "), write_layer<Sub, Nested>(sink)), ...);
        }(typename Bound::layer::template sublayers<typename Bound::input_shape>{});
        sink.put("]");
    }
}

// Nested (format version 3) lists the layers that layers hold; versions 1
// and 2 wrote the outer layers only.
template <class Net, bool Nested>
constexpr void write_topology(TextSink& sink) {
    sink.put(is_shapes<typename Net::input_shape> ? "Inputs " : "Input ");
    put_dims(sink, typename Net::input_shape{});
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        ((sink.put(" | "), write_layer<Bound, Nested>(sink)), ...);
    }(typename Net::layers{});
}

template <class Net, bool Nested = true>
inline constexpr auto topology_text = [] {
    constexpr std::size_t size = [] {
        TextSink counter;
        write_topology<Net, Nested>(counter);
        return counter.size;
    }();
    std::array<char, size> text{};
    TextSink writer{text.data()};
    write_topology<Net, Nested>(writer);
    return text;
}();

constexpr std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : text) hash = (hash ^ std::uint8_t(c)) * 0x100000001b3ULL;
    return hash;
}

// CRC-32 of the values' bytes, continuing from `crc` (0 to start).
inline std::uint64_t crc32_of(std::span<const float> values, std::uint64_t start = 0) {
    uLong crc = uLong(start);
    const auto* bytes = reinterpret_cast<const Bytef*>(values.data());
    std::size_t left = values.size_bytes();
    while (left > 0) {  // zlib counts in uInt
        const uInt chunk = uInt(std::min<std::size_t>(left, 1u << 30));
        crc = crc32(crc, bytes, chunk);
        bytes += chunk;
        left -= chunk;
    }
    return crc;
}

// Calls f(bound_layer, parameter offset, state offset) for each layer in order.
template <class Net, class F>
void for_each_layer(F&& f) {
    std::size_t params = 0, state = 0;
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        ((f(Bound{}, params, state), params += Bound::param_count, state += Bound::state_count), ...);
    }(typename Net::layers{});
}

// visit(path, array, offset) for every array of top-level layer Bound,
// sublayers included; offsets count from the start of the layer's blocks.
template <class Bound, class Net, class Visit>
void for_each_array_of(const Net& net, Visit&& visit) {
    for_each_array<boost::mp11::mp_list<Bound>>(
        [&](auto) -> const auto& { return net.template layer<Bound::index>(); }, visit);
}

template <std::size_t... Dims>
std::vector<std::uint64_t> dims_of(Shape<Dims...>) {
    return {Dims...};
}
// Several tensors: each one's extents, a 0 between two (no extent is 0).
template <class... Parts>
std::vector<std::uint64_t> dims_of(Shapes<Parts...>) {
    std::vector<std::uint64_t> dims;
    ((dims.insert(dims.end(), Parts::dims.begin(), Parts::dims.end()), dims.push_back(0)), ...);
    dims.pop_back();
    return dims;
}

inline std::vector<std::size_t> extents(const Dims& shape) {
    return {shape.extent.begin(), shape.extent.begin() + std::ptrdiff_t(shape.rank)};
}

// "Shape<1, 28, 84>", or "Shapes<Shape<1, 28, 84>, Shape<10>>" where dims_of put 0s between tensors.
inline std::string shape_text(const std::vector<std::uint64_t>& dims) {
    std::string text = "Shape<";
    bool several = false, first = true;
    for (std::uint64_t extent : dims) {
        if (extent == 0) {
            text += ">, Shape<";
            several = first = true;
            continue;
        }
        text += (first ? "" : ", ") + std::to_string(extent);
        first = false;
    }
    text += ">";
    return several ? "Shapes<" + text + ">" : text;
}

// A layer as the network or the file describes it.
struct LayerRecord {
    std::string type;
    std::vector<std::uint64_t> input_shape, output_shape;
    std::uint64_t param_count = 0;

    bool operator==(const LayerRecord&) const = default;
    std::string text() const {
        return type + " " + shape_text(input_shape) + " -> " + shape_text(output_shape) + " (" +
               with_thousands(param_count) + " parameters)";
    }
};

template <class Bound>
LayerRecord record_of() {
    return {std::string(Bound::layer::type_name), dims_of(typename Bound::input_shape{}),
            dims_of(typename Bound::output_shape{}), Bound::param_count};
}

inline std::size_t index_width(std::size_t layer_count) {
    return std::max<std::size_t>(2, std::to_string(layer_count).size());
}

// Calls f(group) with the group an array of a top-level layer goes in: the
// layer's own group, then a subgroup per sublayer on the array's path (a
// Residual's body layers), from `depth` on.
template <class F>
void in_group_of(const hdf5::Group& group, const ArrayPath& path, bool create, F&& f,
                 std::size_t depth = 1) {
    if (depth >= path.depth) return f(group);
    const std::string name = layer_name(path.steps[depth].index, path.steps[depth].type, 1);
    const hdf5::Group inner = create && !group.contains(name) ? group.create_group(name) : group.open_group(name);
    in_group_of(inner, path, create, f, depth + 1);
}

// A network's buffers on the host: what a file holds, read and checked
// before any of it goes into the network.
struct HostWeights {
    std::vector<float> params, state;

    template <class Net>
    static HostWeights of(const Net& net) {
        HostWeights weights{std::vector<float>(Net::param_count), std::vector<float>(Net::state_count)};
        net.backend().to_host(net.parameters().data(), weights.params.data(), Net::param_count);
        net.backend().to_host(net.state().data(), weights.state.data(), Net::state_count);
        return weights;
    }
    template <class Net>
    void apply(Net& net) const {
        net.backend().to_device(params.data(), net.parameters().data(), Net::param_count);
        net.backend().to_device(state.data(), net.state().data(), Net::state_count);
    }
};

template <class Net>
void write_weights(const hdf5::Group& root, const Net& net) {
    const std::string_view topology(topology_text<Net>.data(), topology_text<Net>.size());
    root.set_attribute("ctnn_format_version", model_format_version);
    root.set_attribute("topology", topology);
    root.set_attribute("topology_hash", fnv1a(topology));
    root.set_attribute("param_count", std::uint64_t{Net::param_count});
    root.set_attribute("layer_count", std::uint64_t{Net::layer_count});
    const hdf5::Group layers = root.create_group("layers");
    const HostWeights weights = HostWeights::of(net);
    for_each_layer<Net>([&]<class Bound>(Bound, std::size_t params_at, std::size_t state_at) {
        const LayerRecord record = record_of<Bound>();
        const hdf5::Group group =
            layers.create_group(layer_name(Bound::index, record.type, index_width(Net::layer_count)));
        group.set_attribute("type", record.type);
        group.set_attribute("input_shape", std::span<const std::uint64_t>(record.input_shape));
        group.set_attribute("output_shape", std::span<const std::uint64_t>(record.output_shape));
        group.set_attribute("param_count", record.param_count);
        const auto params = std::span<const float>(weights.params).subspan(params_at, Bound::param_count);
        const auto state = std::span<const float>(weights.state).subspan(state_at, Bound::state_count);
        for_each_array_of<Bound>(net, [&](const ArrayPath& path, const auto& array, std::size_t offset) {
            const bool is_state = std::is_same_v<std::decay_t<decltype(array)>, StateArray>;
            const auto values = (is_state ? state : params).subspan(offset, array.size());
            in_group_of(group, path, true, [&](const hdf5::Group& holder) {
                holder.write(std::string(array.name), values, extents(array.shape));
            });
        });
        group.set_attribute("crc32", crc32_of(state, crc32_of(params)));
    });
}

// The file's layer groups by index, from their names.
inline std::map<std::size_t, std::string> file_layers(const hdf5::Group& layers) {
    std::map<std::size_t, std::string> found;
    for (const std::string& name : layers.members()) {
        std::size_t index = 0;
        if (name.starts_with("layer_") &&
            std::from_chars(name.data() + 6, name.data() + name.size(), index).ec == std::errc{} &&
            !found.emplace(index, name).second)
            layers.fail("groups " + found[index] + " and " + name + " both hold layer " + std::to_string(index));
    }
    return found;
}

inline LayerRecord read_record(const hdf5::Group& group) {
    return {group.string_attribute("type"), group.u64s_attribute("input_shape"),
            group.u64s_attribute("output_shape"), group.u64_attribute("param_count")};
}

[[noreturn]] inline void fail_checksum(const hdf5::Group& group, const std::string& what) {
    group.fail(what + " do not match their CRC-32: the file is corrupt");
}

inline void read_checked(const hdf5::Group& group, const std::string& name, std::span<float> out,
                         const std::vector<std::size_t>& shape, const std::string& where) {
    if (!group.contains(name)) group.fail(where + " has no dataset " + name);
    if (group.dims(name) != shape) group.fail(where + "/" + name + " has the wrong shape");
    group.read(name, out);
}

// Version 1's layers other than Dense, Conv2D and BatchNorm: the parameters
// as one flat array, and each BatchNorm's statistics (mean, then variance)
// as state_0, state_1, ...
inline void read_flat(const hdf5::Group& group, std::span<float> params, std::span<float> state,
                      const std::string& where) {
    if (!params.empty()) read_checked(group, "params", params, {params.size()}, where);
    for (std::size_t j = 0, at = 0; at < state.size(); ++j) {
        const std::string name = "state_" + std::to_string(j);
        if (!group.contains(name)) group.fail(where + " has no dataset " + name);
        const std::vector<std::size_t> dims = group.dims(name);
        if (dims.size() != 1 || at + dims[0] > state.size()) group.fail(where + "/" + name + " has the wrong shape");
        group.read(name, state.subspan(at, dims[0]));
        at += dims[0];
    }
}

// Reads the weights after checking that the file's layers are the network's.
template <class Net>
void read_weights(const hdf5::Group& root, const Net& net, HostWeights& weights) {
    if (!root.has_attribute("ctnn_format_version"))
        root.fail("not a ctnn model file (no ctnn_format_version attribute)");
    const std::uint64_t version = root.u64_attribute("ctnn_format_version");
    if (version == 0 || version > model_format_version)
        root.fail("ctnn model format version " + std::to_string(version) + "; this ctnn reads versions 1 to " +
                  std::to_string(model_format_version));
    const hdf5::Group layers = root.open_group("layers");
    const std::map<std::size_t, std::string> in_file = file_layers(layers);
    const std::string prefix = "the file's model differs from the network at layer ";
    for_each_layer<Net>([&]<class Bound>(Bound, std::size_t params_at, std::size_t state_at) {
        const LayerRecord expected = record_of<Bound>();
        const auto found = in_file.find(Bound::index);
        if (found == in_file.end())
            root.fail(prefix + std::to_string(Bound::index) + ": the network has " + expected.text() +
                      ", the file has " + std::to_string(in_file.size()) + " layers and none there");
        const hdf5::Group group = layers.open_group(found->second);
        const LayerRecord stored = read_record(group);
        if (stored != expected)
            root.fail(prefix + std::to_string(Bound::index) + ": the network has " + expected.text() +
                      ", the file has " + stored.text());
        const auto params = std::span<float>(weights.params).subspan(params_at, Bound::param_count);
        const auto state = std::span<float>(weights.state).subspan(state_at, Bound::state_count);
        if (version == 1 && group.contains("params")) {
            read_flat(group, params, state, found->second);
        } else {
            for_each_array_of<Bound>(net, [&](const ArrayPath& path, const auto& array, std::size_t offset) {
                const bool is_state = std::is_same_v<std::decay_t<decltype(array)>, StateArray>;
                in_group_of(group, path, false, [&](const hdf5::Group& holder) {
                    read_checked(holder, std::string(array.name),
                                 (is_state ? state : params).subspan(offset, array.size()),
                                 extents(array.shape), found->second);
                });
            });
        }
        if (crc32_of(state, crc32_of(params)) != group.u64_attribute("crc32"))
            fail_checksum(group, "the parameters of " + found->second);
    });
    // Every layer was found, so any other group has an index outside 1..layer_count.
    for (const auto& [index, name] : in_file) {
        if (index == 0) root.fail("the file has a layer group " + name + " numbered 0; layers count from 1");
        if (index > Net::layer_count)
            root.fail(prefix + std::to_string(index) + ": the network has " + std::to_string(Net::layer_count) +
                      " layers, the file has " + read_record(layers.open_group(name)).text() + " there");
    }
    const auto& text = version >= 3 ? std::span<const char>(topology_text<Net>) : std::span<const char>(topology_text<Net, false>);
    const std::string_view topology(text.data(), text.size());
    if (root.string_attribute("topology") != topology)
        root.fail("the file's topology \"" + root.string_attribute("topology") +
                  "\" is not the network's \"" + std::string(topology) + "\"");
}

// The temporaries `file`.tmp-<pid> of writers that died (SIGKILL, a crash)
// before they could remove them: a process of that pid no longer exists.
inline void remove_dead_temporaries(const std::filesystem::path& file, const std::filesystem::path& directory) {
    const std::string prefix = file.filename().string() + ".tmp-";
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        int pid = 0;
        const char* digits = name.data() + prefix.size();
        const auto [end, parsed] = std::from_chars(digits, name.data() + name.size(), pid);
        if (parsed != std::errc{} || end != name.data() + name.size() || pid <= 0) continue;
        if (::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), error);
    }
}

// Writes a file through write(root) atomically: a temporary file in the same
// directory, flushed to disk, then renamed over `file`. On any failure the
// temporary goes and `file` is as it was; a writer killed on the way leaves
// its temporary, which the next save of `file` removes.
template <class Write>
void write_atomically(const std::filesystem::path& file, Write&& write) {
    const hdf5::QuietErrors quiet;
    std::error_code error;
    const std::filesystem::path directory = file.parent_path().empty() ? "." : file.parent_path();
    if (!std::filesystem::is_directory(directory, error))
        throw data::DataError(file, "cannot save: " + directory.string() + " is not a directory");
    remove_dead_temporaries(file, directory);
    std::filesystem::path temporary = file;
    temporary += ".tmp-" + std::to_string(::getpid());
    try {
        hdf5::File out = hdf5::File::create(temporary);
        write(out.root());
        out.close();
        // HDF5's flush hands the data to the kernel; fsync puts it on disk
        // before the rename makes it the file.
        const int descriptor = ::open(temporary.c_str(), O_RDONLY);
        const bool synced = descriptor >= 0 && ::fsync(descriptor) == 0;
        const int error = errno;
        if (descriptor >= 0) ::close(descriptor);
        if (!synced) throw data::DataError(temporary, std::string("cannot sync: ") + std::strerror(error));
        std::error_code renamed;
        std::filesystem::rename(temporary, file, renamed);
        if (renamed) throw data::DataError(file, "cannot replace it with the new file: " + renamed.message());
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

// What a checkpoint records of an optimizer: its type, hyper-parameters and
// slots as it declares them (optimizers/optimizer.hpp).
template <class O>
concept checkpointable = requires(O& optimizer) {
    { O::type_name } -> std::convertible_to<std::string_view>;
    O::hyperparameters(optimizer, [](const char*, auto&) {});
    O::slots(optimizer, [](const char*, auto&) {});
};

template <class Optimizer, class Net>
void write_optimizer(const hdf5::Group& root, const Optimizer& optimizer, const Net& net,
                     std::size_t epochs_completed) {
    using Backend = typename Net::backend_type;
    const hdf5::Group group = root.create_group("optimizer");
    group.set_attribute("type", Optimizer::type_name);
    Optimizer::hyperparameters(optimizer, [&](const char* name, const auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>)
            group.set_attribute(name, std::uint64_t{value});
        else
            group.set_attribute(name, float(value));
    });
    if constexpr (requires { optimizer.iterations(); })
        group.set_attribute("iterations", std::uint64_t{optimizer.iterations()});
    group.set_attribute("epochs_completed", std::uint64_t{epochs_completed});
    std::vector<float> host(Net::param_count);
    Optimizer::slots(optimizer, [&](const char* name, const SlotArray& slot) {
        if (slot.empty()) return;
        if (slot.size() != Net::param_count || !slot.template holds<Backend>())
            group.fail(std::string("the optimizer's ") + name + " holds " + std::to_string(slot.size()) +
                       " values, not the network's " + std::to_string(Net::param_count) +
                       " parameters on its backend");
        net.backend().to_host(slot.data(), host.data(), host.size());
        const std::size_t dims[] = {host.size()};
        group.write(name, host, dims);
        // Datasets take attributes through their own handle; a sibling
        // attribute keeps the wrapper small.
        group.set_attribute(std::string(name) + "_crc32", crc32_of(host));
    });
}

// Reads the optimizer's state into `optimizer` (a copy, so that the caller's
// changes only when everything read cleanly); returns the epochs completed.
template <class Optimizer, class Net>
std::size_t read_optimizer(const hdf5::Group& root, Optimizer& optimizer, const Net& net) {
    if (!root.contains("optimizer"))
        root.fail("holds weights only, no optimizer state (saved by save_weights, not save_checkpoint)");
    const hdf5::Group group = root.open_group("optimizer");
    const std::string type = group.string_attribute("type");
    if (type != Optimizer::type_name)
        group.fail("the checkpoint's optimizer is " + type + ", not " + std::string(Optimizer::type_name));
    Optimizer::hyperparameters(optimizer, [&](const char* name, auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>)
            value = group.u64_attribute(name) != 0;
        else
            value = group.float_attribute(name);
    });
    if constexpr (requires { optimizer.set_iterations(std::uint64_t{}); })
        optimizer.set_iterations(group.u64_attribute("iterations"));
    std::vector<float> host(Net::param_count);
    Optimizer::slots(optimizer, [&](const char* name, SlotArray& slot) {
        slot.clear();
        if (!group.contains(name)) return;
        if (group.dims(name) != std::vector<std::size_t>{Net::param_count})
            group.fail(std::string("the optimizer's ") + name + " has the wrong shape");
        group.read(name, host);
        if (crc32_of(host) != group.u64_attribute(std::string(name) + "_crc32"))
            fail_checksum(group, std::string("the optimizer's ") + name + " values");
        net.backend().to_device(host.data(), slot.ensure(net.backend(), host.size()), host.size());
    });
    return group.u64_attribute("epochs_completed");
}

} // namespace detail

// "Input 784 | Dense 784->200 (157000) | ...": the layers' types, shapes and
// parameter counts, fixed at compile time; saved files record it.
template <class Net>
constexpr std::string_view topology() {
    return {detail::topology_text<Net>.data(), detail::topology_text<Net>.size()};
}

template <class Net>
void save_weights(const std::filesystem::path& file, const Net& net) {
    detail::write_atomically(file, [&](const hdf5::Group& root) { detail::write_weights(root, net); });
}

// Throws data::DataError, leaving `net` as it was, when the file cannot be
// read, is corrupt, or holds another topology.
template <class Net>
void load_weights(const std::filesystem::path& file, Net& net) {
    const hdf5::QuietErrors quiet;
    detail::HostWeights weights = detail::HostWeights::of(net);
    {
        const hdf5::File in = hdf5::File::open_read_only(file);
        detail::read_weights(in.root(), net, weights);
    }
    weights.apply(net);
}

// Weights, the optimizer's hyper-parameters and state, and how many epochs
// have run: what resuming needs (fit with .initial_epoch = epochs_completed).
template <class Net, class Optimizer>
    requires detail::checkpointable<Optimizer>
void save_checkpoint(const std::filesystem::path& file, const Net& net, const Optimizer& optimizer,
                     std::size_t epochs_completed) {
    detail::write_atomically(file, [&](const hdf5::Group& root) {
        detail::write_weights(root, net);
        detail::write_optimizer(root, optimizer, net, epochs_completed);
    });
}

// Restores what save_checkpoint wrote; returns the epochs completed. Nothing
// changes unless all of it reads cleanly.
template <class Net, class Optimizer>
    requires detail::checkpointable<Optimizer>
std::size_t load_checkpoint(const std::filesystem::path& file, Net& net, Optimizer& optimizer) {
    const hdf5::QuietErrors quiet;
    detail::HostWeights weights = detail::HostWeights::of(net);
    Optimizer restored = optimizer;
    std::size_t epochs_completed = 0;
    {
        const hdf5::File in = hdf5::File::open_read_only(file);
        const hdf5::Group root = in.root();
        detail::read_weights(root, net, weights);
        epochs_completed = detail::read_optimizer(root, restored, net);
    }
    weights.apply(net);
    optimizer = std::move(restored);
    return epochs_completed;
}

} // namespace ctnn
