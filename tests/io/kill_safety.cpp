// Saves survive SIGKILL: a child process (tests/helpers/kill_writer.cpp)
// writing checkpoints is killed at random moments, many times; the file is
// always a complete checkpoint, and a run resumed from it after the kill ends
// with the weights of a run that was never interrupted.
#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/save.hpp>

#include "support/temp_dir.hpp"

extern char** environ;

namespace io_kill_safety_test {

using ctnn::testing::TempDir;
using Mlp = ctnn::Sequential<ctnn::Input<16>, ctnn::Dense<256>, ctnn::Tanh, ctnn::Dropout, ctnn::Dense<3>,
                             ctnn::Softmax>;

pid_t spawn(std::vector<std::string> args) {
    args.insert(args.begin(), CTNN_KILL_WRITER);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    return pid;
}

// Exit status, or -signal.
int wait_for(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// -SIGKILL, or 0 where the child had finished by then.
int kill_after(pid_t pid, std::chrono::microseconds delay) {
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    return wait_for(pid);
}

void wait_until_exists(const std::filesystem::path& file) {
    for (int i = 0; i < 20000 && !std::filesystem::exists(file); ++i)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    REQUIRE(std::filesystem::exists(file));
}

std::vector<float> raw_floats(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    return values;
}

TEST_CASE("a checkpoint file whose writer is killed in the middle of a save is always the previous one or the new one, and loads") {
    TempDir dir("ctnn-kill");
    const auto file = dir / "run.h5";
    ctnn::Rng rng(3);
    std::size_t last = 0;
    for (int kill = 0; kill < 40; ++kill) {
        CAPTURE(kill);
        const pid_t child = spawn({"loop", file.string()});
        if (kill == 0) wait_until_exists(file);
        kill_after(child, std::chrono::microseconds(2000 + rng.below(30000)));
        Mlp net;
        ctnn::Adam adam;
        const std::size_t saved = ctnn::load_checkpoint(file, net, adam);  // throws if broken
        CHECK(saved >= 1);
        const auto parameters = net.host_parameters();
        CHECK(std::all_of(parameters.begin(), parameters.end(), [&](float p) { return p == float(saved); }));
        last = saved;
    }
    CHECK(last >= 1);
    // Each save removes the temporaries of the writers killed before it: at
    // most the last one's is left.
    std::size_t temporaries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        temporaries += entry.path().filename().string().starts_with("run.h5.tmp-");
    CHECK(temporaries <= 1);
}

TEST_CASE("a run killed at a random moment and resumed from its last checkpoint ends as an uninterrupted run") {
    TempDir dir("ctnn-kill");
    REQUIRE(wait_for(spawn({"train", (dir / "whole.h5").string(), (dir / "whole.bin").string()})) == 0);
    const std::vector<float> uninterrupted = raw_floats(dir / "whole.bin");
    REQUIRE(uninterrupted.size() == Mlp::param_count);
    ctnn::Rng rng(8);
    int killed = 0;
    for (int run = 0; run < 3; ++run) {
        CAPTURE(run);
        const auto checkpoint = dir / ("run" + std::to_string(run) + ".h5");
        const auto out = dir / ("run" + std::to_string(run) + ".bin");
        const pid_t child = spawn({"train", checkpoint.string(), out.string()});
        wait_until_exists(checkpoint);
        // The 40 epochs take 0.6 s on this project's 2-core hosts: kills land in training or a save.
        killed += kill_after(child, std::chrono::microseconds(rng.below(400000))) == -SIGKILL;
        REQUIRE(wait_for(spawn({"train", checkpoint.string(), out.string()})) == 0);
        CHECK(raw_floats(out) == uninterrupted);
    }
    CHECK(killed >= 1);
}

} // namespace io_kill_safety_test
