#include <ctnn/io/save.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "support/backends.hpp"
#include "support/temp_dir.hpp"

namespace io_save_load_test {

namespace fs = std::filesystem;
using ctnn::data::DataError;
using ctnn::testing::TempDir;

using Net = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Tanh, ctnn::Dropout,
                             ctnn::Dense<3>, ctnn::Softmax>;
using Narrower = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<4>, ctnn::Tanh, ctnn::Dropout,
                                  ctnn::Dense<3>, ctnn::Softmax>;
using OtherActivation = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Sigmoid,
                                         ctnn::Dropout, ctnn::Dense<3>, ctnn::Softmax>;
using Shorter = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Tanh>;
using Longer = ctnn::Sequential<ctnn::Input<6>, ctnn::Dense<5>, ctnn::Tanh, ctnn::Dropout,
                                ctnn::Dense<3>, ctnn::Softmax, ctnn::Dense<2>>;
using Conv = ctnn::Sequential<ctnn::Input<2, 5, 5>, ctnn::Conv2D<3, 3>, ctnn::ReLU, ctnn::Flatten,
                              ctnn::Dense<2>, ctnn::Softmax>;
// BatchNorms alone, fused into a Conv2D, and inside a residual block.
using Normed = ctnn::Sequential<
    ctnn::Input<1, 6, 6>, ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
    ctnn::Residual<ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU>, ctnn::Flatten,
    ctnn::Dense<6>, ctnn::BatchNorm, ctnn::Dense<3>, ctnn::Softmax>;

static_assert(ctnn::topology<Net>() ==
              "Input 6 | Dense 6->5 (35) | Tanh 5->5 (0) | Dropout 5->5 (0) | Dense 5->3 (18) | "
              "Softmax 3->3 (0)");
static_assert(ctnn::topology<Conv>().starts_with("Input 2x5x5 | Conv2D 2x5x5->3x3x3 (57) | "));

// Three classes of points in six dimensions, separable with a hidden layer.
ctnn::data::Dataset points(std::size_t n, std::uint64_t seed) {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({n, 6}), xt::xtensor<float, 2>({n, 1})};
    ctnn::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t label = i % 3;
        for (std::size_t j = 0; j < 6; ++j)
            data.inputs(i, j) = (j % 3 == label ? 1.0f : -0.5f) + 0.4f * rng.normal();
        data.targets(i, 0) = float(label);
    }
    return data;
}

// Six-by-six images of noise, labelled by the brightest third of the rows.
ctnn::data::Dataset images(std::size_t n, std::uint64_t seed) {
    ctnn::data::Dataset data{xt::xtensor<float, 2>({n, 36}), xt::xtensor<float, 2>({n, 1})};
    ctnn::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t label = i % 3;
        for (std::size_t j = 0; j < 36; ++j)
            data.inputs(i, j) = (j / 12 == label ? 1.0f : 0.0f) + 0.5f * rng.normal();
        data.targets(i, 0) = float(label);
    }
    return data;
}

std::vector<float> state_of(const Normed& net) { return {net.state().begin(), net.state().end()}; }

ctnn::FitOptions options(std::size_t epochs) {
    return {.epochs = epochs,
            .batch_size = 16,
            .seed = 5,
            .learning_rate_schedule = ctnn::cosine_decay(0.05f, 4),
            .verbosity = ctnn::Verbosity::silent};
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

template <class Optimizer>
std::vector<std::vector<float>> slots(const Optimizer& optimizer) {
    std::vector<std::vector<float>> all;
    Optimizer::slots(optimizer, [&](const char*, const ctnn::SlotArray& slot) {
        all.emplace_back(slot.data(), slot.data() + slot.size());
    });
    return all;
}

std::vector<char> bytes_of(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& file, const std::vector<char>& bytes) {
    std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string message_of(auto&& action) {
    try {
        action();
    } catch (const DataError& error) {
        return error.what();
    }
    FAIL("no DataError thrown");
    return {};
}

TEST_CASE_TEMPLATE("save_weights and load_weights round-trip the parameters bit for bit", Backend,
                   CTNN_TEST_BACKENDS) {
    using Saved = typename Net::template on<Backend>;
    TempDir dir("ctnn-save-test");
    Saved saved{ctnn::Seed{1}}, loaded{ctnn::Seed{2}};
    ctnn::fit(saved, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, points(48, 1), options(1));
    REQUIRE_FALSE(same_bits(saved.parameters(), loaded.parameters()));
    ctnn::save_weights(dir / "net.h5", saved);
    ctnn::load_weights(dir / "net.h5", loaded);
    CHECK(same_bits(saved.parameters(), loaded.parameters()));

    // The layout the header documents, as another reader sees it.
    const ctnn::hdf5::QuietErrors quiet;
    const ctnn::hdf5::File file = ctnn::hdf5::File::open_read_only(dir / "net.h5");
    const ctnn::hdf5::Group root = file.root();
    CHECK(root.u64_attribute("ctnn_format_version") == 3);
    CHECK(root.string_attribute("topology") == ctnn::topology<Saved>());
    CHECK(root.u64_attribute("param_count") == Net::param_count);
    CHECK(root.u64_attribute("layer_count") == 5);
    CHECK(root.open_group("layers").members() ==
          std::vector<std::string>{"layer_01_Dense", "layer_02_Tanh", "layer_03_Dropout",
                                   "layer_04_Dense", "layer_05_Softmax"});
    const ctnn::hdf5::Group dense = root.open_group("layers/layer_04_Dense");
    CHECK(dense.string_attribute("type") == "Dense");
    CHECK(dense.u64s_attribute("input_shape") == std::vector<std::uint64_t>{5});
    CHECK(dense.dims("kernel") == std::vector<std::size_t>{5, 3});
    std::vector<float> bias(3);
    dense.read("bias", bias);
    CHECK(same_bits(bias, saved.parameters().subspan(35 + 15, 3)));
    CHECK_FALSE(root.contains("optimizer"));
}

#if defined(CTNN_TEST_THRUST)
TEST_CASE("a file saved from a device network loads into a CPU network, and back") {
    using Device = Normed::on<ctnn::backend::ThrustHost>;
    TempDir dir("ctnn-save-test");
    Device trained{ctnn::Seed{1}};
    ctnn::Adam adam{0.01f};
    ctnn::fit(trained, adam, ctnn::CategoricalCrossEntropy{}, images(32, 1), options(1));
    ctnn::save_checkpoint(dir / "device.h5", trained, adam, 1);

    Normed cpu{ctnn::Seed{2}};
    ctnn::Adam resumed{0.5f};
    CHECK(ctnn::load_checkpoint(dir / "device.h5", cpu, resumed) == 1);
    CHECK(same_bits(cpu.host_parameters(), trained.host_parameters()));
    CHECK(same_bits(cpu.host_state(), trained.host_state()));
    CHECK(resumed.iterations() == adam.iterations());

    ctnn::save_weights(dir / "cpu.h5", cpu);
    Device again{ctnn::Seed{3}};
    ctnn::load_weights(dir / "cpu.h5", again);
    CHECK(same_bits(again.host_parameters(), trained.host_parameters()));
    CHECK(same_bits(again.host_state(), trained.host_state()));
}
#endif

TEST_CASE("a Conv2D kernel is stored as (filters, channels, rows, columns)") {
    TempDir dir("ctnn-save-test");
    Conv net{ctnn::Seed{3}};
    ctnn::save_weights(dir / "conv.h5", net);
    const ctnn::hdf5::QuietErrors quiet;
    const ctnn::hdf5::Group conv = ctnn::hdf5::File::open_read_only(dir / "conv.h5")
                                       .root()
                                       .open_group("layers/layer_01_Conv2D");
    REQUIRE(conv.dims("kernel") == std::vector<std::size_t>{3, 2, 3, 3});
    std::vector<float> kernel(54);
    conv.read("kernel", kernel);
    CHECK(same_bits(kernel, net.parameters().first(54)));
}

TEST_CASE("BatchNorm's running statistics are saved with the parameters") {
    TempDir dir("ctnn-save-test");
    Normed saved{ctnn::Seed{1}}, loaded{ctnn::Seed{2}};
    const ctnn::data::Dataset data = images(48, 3);
    ctnn::fit(saved, ctnn::Adam{0.01f}, ctnn::CategoricalCrossEntropy{}, data, options(2));
    // Each BatchNorm's moving mean then variance: 2 + 2 (inside the residual
    // block) + 6 channels.
    const std::vector<float> state = state_of(saved);
    REQUIRE(state.size() == 2 * (2 + 2 + 6));
    REQUIRE(state != state_of(loaded));
    ctnn::save_weights(dir / "normed.h5", saved);
    ctnn::load_weights(dir / "normed.h5", loaded);
    CHECK(same_bits(saved.parameters(), loaded.parameters()));
    CHECK(state_of(loaded) == state);
    CHECK(ctnn::evaluate(saved, data).loss == ctnn::evaluate(loaded, data).loss);

    const ctnn::hdf5::QuietErrors quiet;
    const ctnn::hdf5::Group layers = ctnn::hdf5::File::open_read_only(dir / "normed.h5").root().open_group("layers");
    const ctnn::hdf5::Group norm = layers.open_group("layer_02_BatchNormalization");
    std::vector<float> variance(2);
    norm.read("moving_variance", variance);
    CHECK(same_bits(variance, std::span<const float>(state).subspan(2, 2)));
    CHECK(norm.dims("gamma") == std::vector<std::size_t>{2});
    // A residual block's body layers in subgroups, their arrays by name.
    const ctnn::hdf5::Group inner = layers.open_group("layer_04_Residual/layer_2_BatchNormalization");
    inner.read("moving_variance", variance);
    CHECK(same_bits(variance, std::span<const float>(state).subspan(6, 2)));
    CHECK(layers.open_group("layer_04_Residual/layer_1_Conv2D").dims("kernel") ==
          std::vector<std::size_t>{2, 2, 3, 3});
}

TEST_CASE_TEMPLATE("save_checkpoint and load_checkpoint round-trip the optimizer's state",
                   Optimizer, ctnn::SGD, ctnn::RMSprop, ctnn::Adam, ctnn::AdamW) {
    TempDir dir("ctnn-save-test");
    Optimizer trained{0.02f};
    if constexpr (std::is_same_v<Optimizer, ctnn::SGD>) trained.momentum = 0.9f;
    if constexpr (std::is_same_v<Optimizer, ctnn::RMSprop>) {
        trained.centered = true;
        trained.momentum = 0.5f;
    }
    Net net{ctnn::Seed{1}};
    ctnn::fit(net, trained, ctnn::CategoricalCrossEntropy{}, points(48, 1), options(1));
    ctnn::save_checkpoint(dir / "run.h5", net, trained, 1);

    Optimizer restored{0.5f};
    Net other{ctnn::Seed{2}};
    CHECK(ctnn::load_checkpoint(dir / "run.h5", other, restored) == 1);
    CHECK(same_bits(net.parameters(), other.parameters()));
    CHECK(restored.learning_rate == trained.learning_rate);
    const auto expected = slots(trained), found = slots(restored);
    REQUIRE(expected.size() == found.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(same_bits(expected[i], found[i]));
    if constexpr (std::is_same_v<Optimizer, ctnn::RMSprop>) {
        CHECK(restored.centered);
        CHECK(restored.momentum == 0.5f);
        CHECK_FALSE(expected[1].empty());  // centered: the mean gradient is in use
    }
    if constexpr (requires { trained.iterations(); }) {
        CHECK(trained.iterations() == 3);
        CHECK(restored.iterations() == trained.iterations());
    }
}

TEST_CASE_TEMPLATE("training resumed from a checkpoint matches uninterrupted training bit for bit",
                   Optimizer, ctnn::Adam, ctnn::RMSprop) {
    TempDir dir("ctnn-save-test");
    const ctnn::data::Dataset train = points(60, 1), validation = points(30, 2);
    auto run = [&](Net& net, Optimizer& optimizer, ctnn::FitOptions o) {
        o.validation = validation;
        return ctnn::fit(net, optimizer, ctnn::CategoricalCrossEntropy{}, train, o);
    };
    Net straight{ctnn::Dropout{0.3f}, ctnn::Seed{7}};
    Optimizer straight_optimizer{0.05f};
    const ctnn::History full = run(straight, straight_optimizer, options(4));

    Net first{ctnn::Dropout{0.3f}, ctnn::Seed{7}};
    Optimizer first_optimizer{0.05f};
    run(first, first_optimizer, options(2));
    ctnn::save_checkpoint(dir / "run.h5", first, first_optimizer, 2);

    Net resumed{ctnn::Dropout{0.3f}, ctnn::Seed{99}};
    Optimizer resumed_optimizer{1.0f};
    ctnn::FitOptions rest = options(4);
    rest.initial_epoch = ctnn::load_checkpoint(dir / "run.h5", resumed, resumed_optimizer);
    const ctnn::History tail = run(resumed, resumed_optimizer, rest);

    CHECK(same_bits(straight.parameters(), resumed.parameters()));
    REQUIRE(tail.epochs.size() == 2);
    CHECK(tail.epochs[1].loss == full.epochs[3].loss);
    CHECK(tail.epochs[1].val_loss == full.epochs[3].val_loss);
    const auto expected = slots(straight_optimizer), found = slots(resumed_optimizer);
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(same_bits(expected[i], found[i]));
}

TEST_CASE("recurrent layers' arrays are saved in Keras's shapes") {
    using Sequences = ctnn::Sequential<ctnn::Input<5, 4>, ctnn::LSTM<3>, ctnn::RepeatVector<2>,
                                       ctnn::GRU<3, true>, ctnn::TimeDistributed<ctnn::Dense<4>>>;
    TempDir dir("ctnn-save-test");
    Sequences net{ctnn::Seed{1}};
    ctnn::save_weights(dir / "seq.h5", net);
    const ctnn::hdf5::QuietErrors quiet;
    const ctnn::hdf5::File file = ctnn::hdf5::File::open_read_only(dir / "seq.h5");
    const ctnn::hdf5::Group lstm = file.root().open_group("layers/layer_01_LSTM");
    CHECK(lstm.dims("kernel") == std::vector<std::size_t>{4, 12});
    CHECK(lstm.dims("recurrent_kernel") == std::vector<std::size_t>{3, 12});
    CHECK(lstm.dims("bias") == std::vector<std::size_t>{12});
    const ctnn::hdf5::Group gru = file.root().open_group("layers/layer_03_GRU");
    CHECK(gru.dims("recurrent_kernel") == std::vector<std::size_t>{3, 9});
    CHECK(gru.dims("bias") == std::vector<std::size_t>{2, 9});
    std::vector<float> recurrent(27);
    gru.read("recurrent_kernel", recurrent);
    const auto expected = net.parameter<3, "recurrent_kernel">();
    CHECK(same_bits(recurrent, {expected.data(), expected.size()}));
    CHECK(file.root().open_group("layers/layer_04_TimeDistributed").dims("kernel") ==
          std::vector<std::size_t>{3, 4});
}

// Files written by ctnn before the layers declared their arrays (format
// version 1, at commit 78ee860), with parameter i = ((i % 97) - 48) / 64,
// state value i = 0.5 + (i % 13) / 16 and, in the checkpoint, Adam's slot
// value k (m, then v) = parameter(7 k), 7 iterations after 3 epochs.
float fixture_parameter(std::size_t i) { return float(int(i % 97) - 48) / 64.0f; }
float fixture_state(std::size_t i) { return 0.5f + float(i % 13) / 16.0f; }

template <class Loaded>
void check_fixture_values(const Loaded& net) {
    for (std::size_t i = 0; i < Loaded::param_count; ++i) REQUIRE(net.parameters()[i] == fixture_parameter(i));
    for (std::size_t i = 0; i < Loaded::state_count; ++i) REQUIRE(net.state()[i] == fixture_state(i));
}

TEST_CASE("files saved in format version 1 still load") {
    const fs::path fixtures = fs::path(__FILE__).parent_path() / "fixtures";
    using Images = ctnn::Sequential<
        ctnn::Input<1, 6, 6>, ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU,
        ctnn::Residual<ctnn::Conv2D<2, 3, 1, ctnn::same>, ctnn::BatchNorm, ctnn::ReLU>,
        ctnn::Residual<ctnn::Conv2D<3, 3, 2, ctnn::same>>, ctnn::Flatten, ctnn::Dense<4>,
        ctnn::BatchNorm, ctnn::Dense<3>, ctnn::Softmax>;
    using Sequences =
        ctnn::Sequential<ctnn::Input<5, 4>, ctnn::LSTM<3>, ctnn::RepeatVector<2>, ctnn::GRU<3, true>,
                         ctnn::SimpleRNN<2, true>, ctnn::TimeDistributed<ctnn::Dense<4>>, ctnn::Softmax>;
    Images images{ctnn::Seed{1}};
    ctnn::load_weights(fixtures / "v1_images.h5", images);
    check_fixture_values(images);
    Sequences sequences{ctnn::Seed{1}};
    ctnn::load_weights(fixtures / "v1_sequences.h5", sequences);
    check_fixture_values(sequences);

    Sequences resumed{ctnn::Seed{2}};
    ctnn::Adam adam;
    CHECK(ctnn::load_checkpoint(fixtures / "v1_checkpoint.h5", resumed, adam) == 3);
    check_fixture_values(resumed);
    CHECK(adam.learning_rate == 0.01f);
    CHECK(adam.beta_1 == 0.8f);
    CHECK(adam.iterations() == 7);
    const auto moments = slots(adam);
    REQUIRE(moments.size() == 2);
    for (std::size_t k = 0; k < 2 * Sequences::param_count; ++k)
        REQUIRE(moments[k / Sequences::param_count][k % Sequences::param_count] == fixture_parameter(7 * k));

    // What a v1 file held for a network, saved again, reads back the same.
    TempDir dir("ctnn-save-test");
    ctnn::save_checkpoint(dir / "v2.h5", resumed, adam, 3);
    Sequences again{ctnn::Seed{3}};
    ctnn::Adam restored;
    ctnn::load_checkpoint(dir / "v2.h5", again, restored);
    check_fixture_values(again);
    CHECK(slots(restored) == moments);
}

TEST_CASE("a file of an unknown format version is refused, naming the version") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    Net net{ctnn::Seed{1}};
    // What a later ctnn would write first.
    ctnn::detail::write_atomically(file, [](const ctnn::hdf5::Group& root) {
        root.set_attribute("ctnn_format_version", std::uint64_t{4});
    });
    CHECK(message_of([&] { ctnn::load_weights(file, net); }) ==
          "ctnn: " + file.string() + ": ctnn model format version 4; this ctnn reads versions 1 to 3");
}

TEST_CASE("loading into another topology names the first layer that differs") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    ctnn::save_weights(file, Net{ctnn::Seed{1}});
    const std::string where = "ctnn: " + file.string() + ": the file's model differs from the network at layer ";

    Narrower narrower;
    const std::vector<float> before(narrower.parameters().begin(), narrower.parameters().end());
    CHECK(message_of([&] { ctnn::load_weights(file, narrower); }) ==
          where + "1: the network has Dense Shape<6> -> Shape<4> (28 parameters), the file has "
                  "Dense Shape<6> -> Shape<5> (35 parameters)");
    CHECK(same_bits(before, narrower.parameters()));

    OtherActivation sigmoid;
    CHECK(message_of([&] { ctnn::load_weights(file, sigmoid); }) ==
          where + "2: the network has Sigmoid Shape<5> -> Shape<5> (0 parameters), the file has "
                  "Tanh Shape<5> -> Shape<5> (0 parameters)");

    Shorter shorter;
    CHECK(message_of([&] { ctnn::load_weights(file, shorter); }) ==
          where + "3: the network has 2 layers, the file has Dropout Shape<5> -> Shape<5> "
                  "(0 parameters) there");

    Longer longer;
    CHECK(message_of([&] { ctnn::load_weights(file, longer); }) ==
          where + "6: the network has Dense Shape<3> -> Shape<2> (8 parameters), the file has 5 "
                  "layers and none there");
}

// Found by tests/fuzz/model_file.cpp: a group numbered 0 beside every layer's
// made the check for extra layers read past the end of its map.
TEST_CASE("layer groups the network has no layer for, or two for one layer, are refused") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    Net net{ctnn::Seed{1}};
    const std::vector<float> before(net.parameters().begin(), net.parameters().end());
    auto saved_with_group = [&](const std::string& name) {
        ctnn::detail::write_atomically(file, [&](const ctnn::hdf5::Group& root) {
            ctnn::detail::write_weights(root, Net{ctnn::Seed{2}});
            root.open_group("layers").create_group(name);
        });
    };
    saved_with_group("layer_00");
    CHECK(message_of([&] { ctnn::load_weights(file, net); }) ==
          "ctnn: " + file.string() + ": the file has a layer group layer_00 numbered 0; layers count from 1");
    saved_with_group("layer_2_Tanh");
    CHECK(message_of([&] { ctnn::load_weights(file, net); }) ==
          "ctnn: " + file.string() + ": groups layer_02_Tanh and layer_2_Tanh both hold layer 2");
    CHECK(same_bits(before, net.parameters()));
}

// Found by tests/fuzz/model_file.cpp: a string attribute that held two
// strings made HDF5 write two pointers into room for one.
TEST_CASE("a string attribute that holds several strings is refused") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    ctnn::detail::write_atomically(file, [&](const ctnn::hdf5::Group& root) {
        ctnn::detail::write_weights(root, Net{ctnn::Seed{2}});
        const ctnn::hdf5::Group layer = root.open_group("layers").open_group("layer_01_Dense");
        H5Adelete(layer.id(), "type");
        const hsize_t two = 2;
        const hid_t space = H5Screate_simple(1, &two, nullptr);
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        const hid_t attribute = H5Acreate2(layer.id(), "type", type, space, H5P_DEFAULT, H5P_DEFAULT);
        const char* texts[] = {"Dense", "Dense"};
        H5Awrite(attribute, type, texts);
        H5Aclose(attribute);
        H5Tclose(type);
        H5Sclose(space);
    });
    Net net{ctnn::Seed{1}};
    CHECK(message_of([&] { ctnn::load_weights(file, net); }) ==
          "ctnn: " + file.string() + ": attribute type holds 2 values, expected 1");
}

TEST_CASE("a truncated file, a corrupted parameter and a missing file are reported") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    Net saved{ctnn::Seed{1}};
    // Parameters unlike any other bytes in the file, to find them there.
    for (std::size_t i = 0; i < Net::param_count; ++i) saved.parameters()[i] = 1000.0f + float(i);
    ctnn::save_weights(file, saved);
    const std::vector<char> bytes = bytes_of(file);
    Net net{ctnn::Seed{2}};
    const std::vector<float> before(net.parameters().begin(), net.parameters().end());

    SUBCASE("truncated") {
        const fs::path half = dir / "half.h5";
        write_bytes(half, {bytes.begin(), bytes.begin() + std::ptrdiff_t(bytes.size() / 2)});
        const std::string message = message_of([&] { ctnn::load_weights(half, net); });
        CHECK(message.starts_with("ctnn: " + half.string() + ": cannot open as an HDF5 file: "));
        CHECK(message.find("truncated file") != std::string::npos);
    }
    SUBCASE("corrupted") {
        const float* kernel = saved.parameters().data();
        const auto found = std::search(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(kernel),
                                       reinterpret_cast<const char*>(kernel + 4));
        REQUIRE(found != bytes.end());
        std::vector<char> corrupted = bytes;
        corrupted[std::size_t(found - bytes.begin()) + 9] ^= 0x10;
        write_bytes(file, corrupted);
        CHECK(message_of([&] { ctnn::load_weights(file, net); }) ==
              "ctnn: " + file.string() +
                  ": the parameters of layer_01_Dense do not match their CRC-32: the file is corrupt");
    }
    SUBCASE("missing") {
        CHECK(message_of([&] { ctnn::load_weights(dir / "none.h5", net); }) ==
              "ctnn: " + (dir / "none.h5").string() + ": cannot open: no such file");
    }
    SUBCASE("not HDF5") {
        write_bytes(file, std::vector<char>(2048, 'x'));
        CHECK(message_of([&] { ctnn::load_weights(file, net); })
                  .starts_with("ctnn: " + file.string() + ": cannot open as an HDF5 file: "));
    }
    CHECK(same_bits(before, net.parameters()));
}

TEST_CASE("a checkpoint is checked for its optimizer") {
    TempDir dir("ctnn-save-test");
    Net net{ctnn::Seed{1}};
    ctnn::save_weights(dir / "weights.h5", net);
    ctnn::Adam adam;
    CHECK(message_of([&] { ctnn::load_checkpoint(dir / "weights.h5", net, adam); }) ==
          "ctnn: " + (dir / "weights.h5").string() +
              ": holds weights only, no optimizer state (saved by save_weights, not save_checkpoint)");
    ctnn::save_checkpoint(dir / "sgd.h5", net, ctnn::SGD{}, 0);
    CHECK(message_of([&] { ctnn::load_checkpoint(dir / "sgd.h5", net, adam); }) ==
          "ctnn: " + (dir / "sgd.h5").string() + ": the checkpoint's optimizer is SGD, not Adam");
}

TEST_CASE("a failed save leaves the existing file as it was") {
    TempDir dir("ctnn-save-test");
    const fs::path file = dir / "net.h5";
    Net net{ctnn::Seed{1}};
    ctnn::save_weights(file, net);
    const std::vector<char> before = bytes_of(file);

    SUBCASE("into a directory that does not exist") {
        CHECK(message_of([&] { ctnn::save_weights(dir / "missing" / "net.h5", net); }) ==
              "ctnn: " + (dir / "missing" / "net.h5").string() + ": cannot save: " +
                  (dir / "missing").string() + " is not a directory");
    }
    SUBCASE("failing half-way through writing") {
        // Adam's state from another network: found only after the weights
        // are written to the temporary file.
        ctnn::Adam adam;
        Narrower narrower{ctnn::Seed{1}};
        ctnn::fit(narrower, adam, ctnn::CategoricalCrossEntropy{}, points(48, 1), options(1));
        CHECK(message_of([&] { ctnn::save_checkpoint(file, net, adam, 1); })
                  .find("the optimizer's m holds " + std::to_string(Narrower::param_count) +
                        " values, not the network's " + std::to_string(Net::param_count) +
                        " parameters") != std::string::npos);
    }
    SUBCASE("over a directory") {
        fs::create_directory(dir / "taken.h5");
        fs::copy_file(file, dir / "taken.h5" / "inside");
        CHECK(message_of([&] { ctnn::save_weights(dir / "taken.h5", net); })
                  .starts_with("ctnn: " + (dir / "taken.h5").string() + ": cannot replace it"));
        CHECK(fs::is_directory(dir / "taken.h5"));
    }
    CHECK(bytes_of(file) == before);
    // No temporary file is left behind.
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename());
    std::erase(names, "taken.h5");
    CHECK(names == std::vector<std::string>{"net.h5"});
}

TEST_CASE("HDF5's own error printing is off only while ctnn calls it") {
    TempDir dir("ctnn-save-test");
    H5E_auto2_t before = nullptr;
    void* data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &before, &data);
    REQUIRE((before != nullptr));
    Net net;
    CHECK_THROWS_AS(ctnn::load_weights(dir / "none.h5", net), DataError);
    CHECK_THROWS_AS(ctnn::save_weights(dir / "missing" / "net.h5", net), DataError);
    H5E_auto2_t after = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &after, &data);
    CHECK((after == before));
}

TEST_CASE("a network with two inputs and a shared branch round-trips; its file names the branch's layers") {
    using Reader = ctnn::Branch<ctnn::Conv2D<2, 3>, ctnn::BatchNorm, ctnn::ReLU, ctnn::Flatten, ctnn::Dense<4>>;
    using Siamese = ctnn::Sequential<ctnn::Inputs<ctnn::Shape<1, 5, 5>, ctnn::Shape<1, 5, 5>>, ctnn::Shared<Reader>,
                                     ctnn::Concatenate, ctnn::Dense<3>, ctnn::Softmax>;
    // The same outer layers, another layer inside the branch.
    using OtherBranch = ctnn::Sequential<
        ctnn::Inputs<ctnn::Shape<1, 5, 5>, ctnn::Shape<1, 5, 5>>,
        ctnn::Shared<ctnn::Branch<ctnn::Conv2D<2, 3>, ctnn::BatchNorm, ctnn::Tanh, ctnn::Flatten, ctnn::Dense<4>>>,
        ctnn::Concatenate, ctnn::Dense<3>, ctnn::Softmax>;
    static_assert(ctnn::topology<Siamese>().starts_with(
        "Inputs (1x5x5, 1x5x5) | Shared (1x5x5, 1x5x5)->(4, 4) (100) [Branch 1x5x5->4 (100) [Conv2D 1x5x5->2x3x3 (20) | "
        "BatchNormalization 2x3x3->2x3x3 (4) | ReLU"));
    TempDir dir("ctnn-save-test");
    Siamese saved{ctnn::Seed{1}}, loaded{ctnn::Seed{2}};
    std::vector<float> state = saved.host_state();
    for (std::size_t i = 0; i < state.size(); ++i) state[i] += 0.25f * float(i + 1);
    saved.set_state(state);
    ctnn::save_weights(dir / "siamese.h5", saved);
    ctnn::load_weights(dir / "siamese.h5", loaded);
    CHECK(same_bits(saved.parameters(), loaded.parameters()));
    CHECK(same_bits(saved.state(), loaded.state()));

    const ctnn::hdf5::QuietErrors quiet;
    {
        const ctnn::hdf5::File file = ctnn::hdf5::File::open_read_only(dir / "siamese.h5");
        const ctnn::hdf5::Group shared = file.root().open_group("layers/layer_01_Shared");
        CHECK(shared.u64s_attribute("input_shape") == std::vector<std::uint64_t>{1, 5, 5, 0, 1, 5, 5});
        CHECK(shared.open_group("layer_1_Branch/layer_1_Conv2D").dims("kernel") == std::vector<std::size_t>{2, 1, 3, 3});
        CHECK(shared.open_group("layer_1_Branch/layer_2_BatchNormalization").contains("moving_mean"));
    }
    OtherBranch other;
    const std::string message = message_of([&] { ctnn::load_weights(dir / "siamese.h5", other); });
    CHECK(message.find("the file's topology") != std::string::npos);
    CHECK(message.find("ReLU 2x3x3->2x3x3") != std::string::npos);
    CHECK(message.find("Tanh 2x3x3->2x3x3") != std::string::npos);
}

} // namespace io_save_load_test
