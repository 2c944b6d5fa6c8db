// The child process of tests/io/kill_safety.cpp, which kills it with SIGKILL
// at random moments:
//   ctnn_kill_writer loop FILE         saves checkpoints of ever-new weights
//                                      (every parameter = the save's number)
//                                      until killed
//   ctnn_kill_writer train FILE OUT    trains a small MLP for 40 epochs with a
//                                      checkpoint after each, resuming from
//                                      FILE when it exists; writes the final
//                                      parameters to OUT as raw floats
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/save.hpp>

namespace {

using Mlp = ctnn::Sequential<ctnn::Input<16>, ctnn::Dense<256>, ctnn::Tanh, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;
constexpr std::size_t epochs = 40;

ctnn::data::Dataset synthetic() {
    constexpr std::size_t n = 8000;
    ctnn::data::Dataset data{xt::xtensor<float, 2>({n, 16}), xt::xtensor<float, 2>({n, 1})};
    ctnn::Rng rng(11);
    for (std::size_t r = 0; r < n; ++r) {
        float score = 0.0f;
        for (std::size_t j = 0; j < 16; ++j) {
            data.inputs(r, j) = rng.uniform(-1.0f, 1.0f);
            score += data.inputs(r, j) * float(j % 3 == 0 ? 1 : -1);
        }
        data.targets(r, 0) = score > 0.5f ? 2.0f : (score < -0.5f ? 0.0f : 1.0f);
    }
    return data;
}

int loop(const std::filesystem::path& file) {
    Mlp net{ctnn::Seed{1}};
    ctnn::Adam adam;
    for (std::size_t k = 1;; ++k) {
        net.set_parameters(std::vector<float>(Mlp::param_count, float(k)));
        ctnn::save_checkpoint(file, net, adam, k);
    }
}

int train(const std::filesystem::path& file, const std::filesystem::path& out) {
    Mlp net{ctnn::Dropout{0.2f}, ctnn::Seed{1}};
    ctnn::Adam adam{1e-3f};
    std::size_t done = 0;
    if (std::filesystem::exists(file)) done = ctnn::load_checkpoint(file, net, adam);
    ctnn::fit(net, adam, ctnn::CategoricalCrossEntropy{}, synthetic(),
              {.epochs = epochs,
               .initial_epoch = done,
               .batch_size = 16,
               .seed = 5,
               .verbosity = ctnn::Verbosity::silent,
               .on_epoch_end = {[&](std::size_t epoch, const ctnn::EpochRecord&) {
                   ctnn::save_checkpoint(file, net, adam, epoch + 1);
               }}});
    const std::vector<float> parameters = net.host_parameters();
    std::ofstream(out, std::ios::binary)
        .write(reinterpret_cast<const char*>(parameters.data()), std::streamsize(parameters.size() * sizeof(float)));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "loop" && argc == 3) return loop(argv[2]);
    if (mode == "train" && argc == 4) return train(argv[2], argv[3]);
    std::fprintf(stderr, "usage: ctnn_kill_writer loop FILE | train FILE OUT\n");
    return 2;
}
