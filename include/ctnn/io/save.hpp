// Saving and loading a network's weights, and with them an optimizer's state
// to resume training, as HDF5 files that h5py reads. Needs ctnn::hdf5.
//
//   ctnn::save_weights("mlp.h5", net);            ctnn::load_weights("mlp.h5", net);
//   ctnn::save_checkpoint("run.h5", net, adam, epochs_done);
//   std::size_t done = ctnn::load_checkpoint("run.h5", net, adam);  // then fit with
//                                                                   // .initial_epoch = done
// Layout (format version 1):
//
//   /                      attributes: ctnn_format_version (u64), topology (string,
//                          "Input 784 | Dense 784->200 (157000) | Sigmoid 200->200 (0) | ..."),
//                          topology_hash (u64, FNV-1a of topology), param_count (u64),
//                          layer_count (u64); from a ModelCheckpoint also epoch (u64,
//                          from 1), monitor (string) and monitor_value (float32)
//   /layers/layer_01_Dense one group per layer after the Input, numbered from 1; attributes
//                          type (string), input_shape, output_shape (u64 arrays),
//                          param_count (u64), crc32 (u64: zlib's CRC-32 of the layer's
//                          float32 parameters, then of its state, in ctnn's order);
//                          datasets, float32:
//                          Dense: kernel (inputs, units), bias (units);
//                          Conv2D: kernel (filters, channels, kernel_h, kernel_w), bias (filters);
//                          BatchNorm: gamma, beta, moving_mean, moving_variance (channels);
//                          any other layer with parameters: params (param_count), and
//                          with BatchNorms inside (Residual): state_0, state_1, ... (each
//                          BatchNorm's running mean, then variance)
//   /optimizer             checkpoints only; attributes type ("SGD", "RMSprop", "Adam",
//                          "AdamW"), the hyper-parameters by Keras's names (float32; a flag
//                          as u64 0/1), iterations (u64, Adam's step count),
//                          epochs_completed (u64); one float32 dataset (param_count) per
//                          slot in use, in the network's flat parameter order, and its CRC-32
//                          as attribute <slot>_crc32 (u64): SGD velocity; RMSprop
//                          mean_square, mean_gradient, momentum; Adam m, v
//
// Saving writes a temporary file beside the target, flushes it to disk and
// renames it over the target, so a reader sees the old file or the new one,
// never half of one. Loading checks the format version, compares the layers
// with the network's in order (the first that differs is named, with type
// and shapes on both sides), checks every array's CRC-32, and changes the
// network and optimizer only when all of it passed.
#pragma once

#include <fcntl.h>
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

#include "ctnn/core/buffer.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/data/error.hpp"
#include "ctnn/io/hdf5_file.hpp"
#include "ctnn/io/summary.hpp"
#include "ctnn/layers/batch_norm.hpp"
#include "ctnn/layers/conv2d.hpp"
#include "ctnn/layers/dense.hpp"
#include "ctnn/optimizers/adam.hpp"
#include "ctnn/optimizers/rmsprop.hpp"
#include "ctnn/optimizers/sgd.hpp"

namespace ctnn {

inline constexpr std::uint64_t model_format_version = 1;

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

template <class Net>
constexpr void write_topology(TextSink& sink) {
    sink.put("Input ");
    put_dims(sink, typename Net::input_shape{});
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        ((sink.put(" | "), sink.put(Bound::layer::type_name), sink.put(" "),
          put_dims(sink, typename Bound::input_shape{}), sink.put("->"),
          put_dims(sink, typename Bound::output_shape{}), sink.put(" ("),
          sink.put(Bound::param_count), sink.put(")")),
         ...);
    }(typename Net::layers{});
}

template <class Net>
inline constexpr auto topology_text = [] {
    constexpr std::size_t size = [] {
        TextSink counter;
        write_topology<Net>(counter);
        return counter.size;
    }();
    std::array<char, size> text{};
    TextSink writer{text.data()};
    write_topology<Net>(writer);
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

// One named array of a layer's parameters, in their order in the buffer.
struct ParameterArray {
    std::string_view name;
    std::array<std::size_t, 4> dims{};
    std::size_t rank = 0;

    constexpr std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
        return n;
    }
    std::span<const std::size_t> shape() const { return {dims.data(), rank}; }
};

template <class InputShape, std::size_t Units>
constexpr auto parameter_arrays(const Dense<Units>*, InputShape) {
    return std::array{ParameterArray{"kernel", {InputShape::size, Units}, 2},
                      ParameterArray{"bias", {Units}, 1}};
}

template <class InputShape, std::size_t Filters, auto Kernel, auto Stride, auto Padding>
constexpr auto parameter_arrays(const Conv2D<Filters, Kernel, Stride, Padding>*, InputShape) {
    using Layer = Conv2D<Filters, Kernel, Stride, Padding>;
    return std::array{
        ParameterArray{"kernel",
                       {Filters, InputShape::dims[0], Layer::kernel.height, Layer::kernel.width}, 4},
        ParameterArray{"bias", {Filters}, 1}};
}

template <class InputShape>
constexpr auto parameter_arrays(const BatchNorm*, InputShape) {
    constexpr std::size_t channels = BatchNorm::param_count<InputShape> / 2;
    return std::array{ParameterArray{"gamma", {channels}, 1}, ParameterArray{"beta", {channels}, 1}};
}

template <class InputShape, class Layer>
constexpr auto parameter_arrays(const Layer*, InputShape) {
    constexpr std::size_t count = Layer::template param_count<InputShape>;
    if constexpr (count == 0)
        return std::array<ParameterArray, 0>{};
    else
        return std::array{ParameterArray{"params", {count}, 1}};
}

template <class Bound>
constexpr auto arrays_of() {
    return parameter_arrays(static_cast<const typename Bound::layer*>(nullptr),
                            typename Bound::input_shape{});
}

// Calls f(bound_layer, offset of its parameters) for each layer in order.
template <class Net, class F>
void for_each_layer(F&& f) {
    std::size_t offset = 0;
    [&]<class... Bound>(boost::mp11::mp_list<Bound...>) {
        ((f(Bound{}, offset), offset += Bound::param_count), ...);
    }(typename Net::layers{});
}

template <std::size_t... Dims>
std::vector<std::uint64_t> dims_of(Shape<Dims...>) {
    return {Dims...};
}

inline std::string shape_text(const std::vector<std::uint64_t>& dims) {
    std::string text = "Shape<";
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + ">";
}

inline std::string layer_group_name(std::size_t index, std::size_t layer_count,
                                    std::string_view type) {
    const std::size_t width = std::max<std::size_t>(2, std::to_string(layer_count).size());
    std::string number = std::to_string(index);
    return "layer_" + std::string(width - number.size(), '0') + number + "_" + std::string(type);
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

// How many state buffers Network::for_each_state gives for a layer: one per
// BatchNorm, counted also in a layer template's arguments (Residual<...>).
template <class Layer>
struct state_buffers : std::integral_constant<std::size_t, 0> {};
template <>
struct state_buffers<BatchNorm> : std::integral_constant<std::size_t, 1> {};
template <template <class...> class Template, class... Arguments>
struct state_buffers<Template<Arguments...>>
    : std::integral_constant<std::size_t, (std::size_t{0} + ... + state_buffers<Arguments>::value)> {};

// The network's state buffers, in layer order: read-only for a const network.
template <class Net>
auto state_of(Net& net) {
    using Value = std::conditional_t<std::is_const_v<Net>, const float, float>;
    std::vector<std::span<Value>> buffers;
    net.for_each_state([&](std::span<Value> buffer) { buffers.push_back(buffer); });
    constexpr std::size_t expected = []<class... Bound>(boost::mp11::mp_list<Bound...>) {
        return (std::size_t{0} + ... + state_buffers<typename Bound::layer>::value);
    }(typename Net::layers{});
    if (buffers.size() != expected)
        throw std::logic_error("ctnn: the network has " + std::to_string(buffers.size()) +
                               " state buffers, its layer types " + std::to_string(expected));
    return buffers;
}

// Names for a layer's state buffers: BatchNorm's halves by Keras's names.
template <class Layer, class Value>
void for_each_state_array(std::span<Value> buffer, std::size_t j, auto&& f) {
    if constexpr (std::is_same_v<Layer, BatchNorm>) {
        f("moving_mean", buffer.first(buffer.size() / 2));
        f("moving_variance", buffer.last(buffer.size() / 2));
    } else {
        f("state_" + std::to_string(j), buffer);
    }
}

template <class Net>
void write_weights(const hdf5::Group& root, const Net& net) {
    const std::string_view topology(topology_text<Net>.data(), topology_text<Net>.size());
    root.set_attribute("ctnn_format_version", model_format_version);
    root.set_attribute("topology", topology);
    root.set_attribute("topology_hash", fnv1a(topology));
    root.set_attribute("param_count", std::uint64_t{Net::param_count});
    root.set_attribute("layer_count", std::uint64_t{Net::layer_count});
    const hdf5::Group layers = root.create_group("layers");
    const auto state = state_of(net);
    std::size_t next_state = 0;
    for_each_layer<Net>([&]<class Bound>(Bound, std::size_t offset) {
        const LayerRecord record = record_of<Bound>();
        const hdf5::Group group =
            layers.create_group(layer_group_name(Bound::index, Net::layer_count, record.type));
        const std::span<const float> params = net.parameters().subspan(offset, Bound::param_count);
        group.set_attribute("type", record.type);
        group.set_attribute("input_shape", std::span<const std::uint64_t>(record.input_shape));
        group.set_attribute("output_shape", std::span<const std::uint64_t>(record.output_shape));
        group.set_attribute("param_count", record.param_count);
        std::size_t at = 0;
        for (const ParameterArray& array : arrays_of<Bound>()) {
            group.write(std::string(array.name), params.subspan(at, array.size()), array.shape());
            at += array.size();
        }
        std::uint64_t crc = crc32_of(params);
        for (std::size_t j = 0; j < state_buffers<typename Bound::layer>::value; ++j)
            for_each_state_array<typename Bound::layer>(
                state[next_state++], j, [&](const std::string& name, std::span<const float> values) {
                    const std::size_t dims[] = {values.size()};
                    group.write(name, values, dims);
                    crc = crc32_of(values, crc);
                });
        group.set_attribute("crc32", crc);
    });
}

// The file's layer groups by index, from their names.
inline std::map<std::size_t, std::string> file_layers(const hdf5::Group& layers) {
    std::map<std::size_t, std::string> found;
    for (const std::string& name : layers.members()) {
        std::size_t index = 0;
        const char* first = name.data() + 6;
        const char* last = name.data() + name.size();
        if (name.starts_with("layer_") && std::from_chars(first, last, index).ec == std::errc{})
            found.emplace(index, name);
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

// What a file holds for a network, read and checked before any of it goes
// into the network.
struct Weights {
    std::vector<float> params;
    std::vector<std::vector<float>> state;

    template <class Net>
    explicit Weights(const Net& net) : params(Net::param_count) {
        for (std::span<const float> buffer : state_of(net)) state.emplace_back(buffer.size());
    }
    template <class Net>
    void apply(Net& net) const {
        std::ranges::copy(params, net.parameters().begin());
        const std::vector<std::span<float>> buffers = state_of(net);
        for (std::size_t i = 0; i < buffers.size(); ++i) std::ranges::copy(state[i], buffers[i].begin());
    }
};

// Reads the weights after checking that the file's layers are the network's.
template <class Net>
void read_weights(const hdf5::Group& root, Weights& weights) {
    if (!root.has_attribute("ctnn_format_version"))
        root.fail("not a ctnn model file (no ctnn_format_version attribute)");
    const std::uint64_t version = root.u64_attribute("ctnn_format_version");
    if (version != model_format_version)
        root.fail("ctnn model format version " + std::to_string(version) + "; this ctnn reads " +
                  std::to_string(model_format_version));
    const hdf5::Group layers = root.open_group("layers");
    const std::map<std::size_t, std::string> in_file = file_layers(layers);
    const std::string prefix = "the file's model differs from the network at layer ";
    std::size_t next_state = 0;
    for_each_layer<Net>([&]<class Bound>(Bound, std::size_t offset) {
        const LayerRecord expected = record_of<Bound>();
        const auto found = in_file.find(Bound::index);
        if (found == in_file.end())
            root.fail(prefix + std::to_string(Bound::index) + ": the network has " +
                      expected.text() + ", the file has " + std::to_string(in_file.size()) +
                      " layers and none there");
        const hdf5::Group group = layers.open_group(found->second);
        const LayerRecord stored = read_record(group);
        if (stored != expected)
            root.fail(prefix + std::to_string(Bound::index) + ": the network has " +
                      expected.text() + ", the file has " + stored.text());
        const std::span<float> params = std::span<float>(weights.params).subspan(offset, Bound::param_count);
        auto read = [&](const std::string& name, std::span<float> out, std::span<const std::size_t> shape) {
            const std::vector<std::size_t> dims = group.dims(name);
            if (!std::equal(dims.begin(), dims.end(), shape.begin(), shape.end()))
                group.fail(found->second + "/" + name + " has the wrong shape");
            group.read(name, out);
        };
        std::size_t at = 0;
        for (const ParameterArray& array : arrays_of<Bound>()) {
            read(std::string(array.name), params.subspan(at, array.size()), array.shape());
            at += array.size();
        }
        std::uint64_t crc = crc32_of(params);
        for (std::size_t j = 0; j < state_buffers<typename Bound::layer>::value; ++j)
            for_each_state_array<typename Bound::layer>(
                std::span<float>(weights.state[next_state++]), j,
                [&](const std::string& name, std::span<float> values) {
                    const std::size_t dims[] = {values.size()};
                    read(name, values, dims);
                    crc = crc32_of(values, crc);
                });
        if (crc != group.u64_attribute("crc32"))
            fail_checksum(group, "the parameters of " + found->second);
    });
    if (in_file.size() > Net::layer_count) {
        const auto extra = in_file.upper_bound(Net::layer_count);
        root.fail(prefix + std::to_string(extra->first) + ": the network has " +
                  std::to_string(Net::layer_count) + " layers, the file has " +
                  read_record(layers.open_group(extra->second)).text() + " there");
    }
    const std::string_view topology(topology_text<Net>.data(), topology_text<Net>.size());
    if (root.string_attribute("topology") != topology)
        root.fail("the file's topology \"" + root.string_attribute("topology") +
                  "\" is not the network's \"" + std::string(topology) + "\"");
}

// Writes a file through write(root) atomically: a temporary file in the same
// directory, flushed to disk, then renamed over `file`. On any failure the
// temporary goes and `file` is as it was.
template <class Write>
void write_atomically(const std::filesystem::path& file, Write&& write) {
    const hdf5::QuietErrors quiet;
    std::error_code error;
    const std::filesystem::path directory = file.parent_path().empty() ? "." : file.parent_path();
    if (!std::filesystem::is_directory(directory, error))
        throw data::DataError(file, "cannot save: " + directory.string() + " is not a directory");
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

// The hyper-parameters an optimizer's checkpoint records, by Keras's names.
template <class Optimizer>
struct optimizer_fields;

template <>
struct optimizer_fields<SGD> {
    static constexpr std::string_view type = "SGD";
    static void visit(auto& o, auto&& f) {
        f("learning_rate", o.learning_rate);
        f("momentum", o.momentum);
        f("nesterov", o.nesterov);
    }
};
template <>
struct optimizer_fields<RMSprop> {
    static constexpr std::string_view type = "RMSprop";
    static void visit(auto& o, auto&& f) {
        f("learning_rate", o.learning_rate);
        f("rho", o.rho);
        f("momentum", o.momentum);
        f("epsilon", o.epsilon);
        f("centered", o.centered);
    }
};
template <>
struct optimizer_fields<Adam> {
    static constexpr std::string_view type = "Adam";
    static void visit(auto& o, auto&& f) {
        f("learning_rate", o.learning_rate);
        f("beta_1", o.beta_1);
        f("beta_2", o.beta_2);
        f("epsilon", o.epsilon);
    }
};
template <>
struct optimizer_fields<AdamW> {
    static constexpr std::string_view type = "AdamW";
    static void visit(auto& o, auto&& f) {
        optimizer_fields<Adam>::visit(o, f);
        f("weight_decay", o.weight_decay);
    }
};

template <class Optimizer>
concept checkpointable = requires { optimizer_fields<Optimizer>::type; };

template <class Optimizer>
void write_optimizer(const hdf5::Group& root, const Optimizer& optimizer, std::size_t param_count,
                     std::size_t epochs_completed) {
    const hdf5::Group group = root.create_group("optimizer");
    group.set_attribute("type", optimizer_fields<Optimizer>::type);
    optimizer_fields<Optimizer>::visit(optimizer, [&](const char* name, const auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>)
            group.set_attribute(name, std::uint64_t{value});
        else
            group.set_attribute(name, float(value));
    });
    if constexpr (requires { optimizer.iterations(); })
        group.set_attribute("iterations", std::uint64_t{optimizer.iterations()});
    group.set_attribute("epochs_completed", std::uint64_t{epochs_completed});
    optimizer.for_each_slot([&](const char* name, const AlignedVector<float>& slot) {
        if (slot.empty()) return;
        if (slot.size() != param_count)
            group.fail(std::string("the optimizer's ") + name + " holds " +
                       std::to_string(slot.size()) + " values, the network has " +
                       std::to_string(param_count) + " parameters");
        const std::size_t dims[] = {param_count};
        group.write(name, slot, dims);
        // Datasets take attributes through their own handle; a sibling
        // attribute keeps the wrapper small.
        group.set_attribute(std::string(name) + "_crc32", crc32_of(slot));
    });
}

// Reads the optimizer's state into `optimizer` (a copy, so that the caller's
// changes only when everything read cleanly); returns the epochs completed.
template <class Optimizer>
std::size_t read_optimizer(const hdf5::Group& root, Optimizer& optimizer, std::size_t param_count) {
    if (!root.contains("optimizer"))
        root.fail("holds weights only, no optimizer state (saved by save_weights, not save_checkpoint)");
    const hdf5::Group group = root.open_group("optimizer");
    const std::string type = group.string_attribute("type");
    if (type != optimizer_fields<Optimizer>::type)
        group.fail("the checkpoint's optimizer is " + type + ", not " +
                   std::string(optimizer_fields<Optimizer>::type));
    optimizer_fields<Optimizer>::visit(optimizer, [&](const char* name, auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>)
            value = group.u64_attribute(name) != 0;
        else
            value = group.float_attribute(name);
    });
    if constexpr (requires { optimizer.set_iterations(std::uint64_t{}); })
        optimizer.set_iterations(group.u64_attribute("iterations"));
    optimizer.for_each_slot([&](const char* name, AlignedVector<float>& slot) {
        slot.clear();
        if (!group.contains(name)) return;
        slot.resize(param_count);
        group.read(name, slot);
        if (crc32_of(slot) != group.u64_attribute(std::string(name) + "_crc32"))
            fail_checksum(group, std::string("the optimizer's ") + name + " values");
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
    detail::Weights weights(net);
    {
        const hdf5::File in = hdf5::File::open_read_only(file);
        detail::read_weights<Net>(in.root(), weights);
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
        detail::write_optimizer(root, optimizer, Net::param_count, epochs_completed);
    });
}

// Restores what save_checkpoint wrote; returns the epochs completed. Nothing
// changes unless all of it reads cleanly.
template <class Net, class Optimizer>
    requires detail::checkpointable<Optimizer>
std::size_t load_checkpoint(const std::filesystem::path& file, Net& net, Optimizer& optimizer) {
    const hdf5::QuietErrors quiet;
    detail::Weights weights(net);
    Optimizer restored = optimizer;
    std::size_t epochs_completed = 0;
    {
        const hdf5::File in = hdf5::File::open_read_only(file);
        const hdf5::Group root = in.root();
        detail::read_weights<Net>(root, weights);
        epochs_completed = detail::read_optimizer(root, restored, Net::param_count);
    }
    weights.apply(net);
    optimizer = std::move(restored);
    return epochs_completed;
}

} // namespace ctnn
