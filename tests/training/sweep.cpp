#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <ctnn/training/sweep.hpp>

namespace training_sweep_test {

const ctnn::SweepOptions quiet{.repeats = 1, .out = nullptr};

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST_CASE("sweep: every grid point in order, the first axis slowest, each repeat its own seed") {
    std::vector<std::pair<std::string, std::uint64_t>> calls;
    auto result = ctnn::sweep({{"a", {1, 2}}, {"b", {10, 20, 30}}},
                              [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
                                  calls.emplace_back(p.label(), seed);
                                  return p["a"] + p["b"];
                              },
                              {.repeats = 2, .seed = 7, .out = nullptr});
    REQUIRE(calls.size() == 12);
    CHECK(calls[0] == std::pair<std::string, std::uint64_t>{"a=1, b=10", 7});
    CHECK(calls[1] == std::pair<std::string, std::uint64_t>{"a=1, b=10", 8});
    CHECK(calls[2].first == "a=1, b=20");
    CHECK(calls[6].first == "a=2, b=10");
    CHECK(calls[11] == std::pair<std::string, std::uint64_t>{"a=2, b=30", 8});
    REQUIRE(result.cells.size() == 6);
    CHECK(result.metrics == std::vector<std::string>{"metric"});
    CHECK(result.cells[4].point.values == std::vector<double>{2, 20});
    CHECK(result.at({2, 20}).spread[0].mean == 22.0);
    CHECK(result.best("metric").point.label() == "a=2, b=30");
    CHECK(result.best("metric", false).point.label() == "a=1, b=10");
}

TEST_CASE("sweep: mean, sample standard deviation, minimum and maximum over the repeats") {
    auto result = ctnn::sweep({{"x", {1}}},
                              [](const ctnn::SweepPoint&, std::uint64_t seed) {
                                  // Seeds 0..3 give 2, 4, 4, 6.
                                  const double values[] = {2, 4, 4, 6};
                                  return values[seed];
                              },
                              {.repeats = 4, .metric = "score", .out = nullptr});
    const ctnn::Spread s = result.cells[0].spread[0];
    CHECK(s.mean == 4.0);
    CHECK(s.std_dev == doctest::Approx(std::sqrt(8.0 / 3.0)));
    CHECK(s.min == 2.0);
    CHECK(s.max == 6.0);
    CHECK(result.cells[0].runs[0] == std::vector<double>{2, 4, 4, 6});
    CHECK(ctnn::spread_of({5.0}).std_dev == 0.0);
}

TEST_CASE("sweep: several named metrics; the CSV holds every statistic of each") {
    auto result = ctnn::sweep({{"rate", {0.1, 0.5}}},
                              [](const ctnn::SweepPoint& p, std::uint64_t seed) {
                                  return ctnn::Metrics{{"test loss", p["rate"] * double(seed + 1)},
                                                       {"accuracy", 1.0 - p["rate"]}};
                              },
                              {.repeats = 2, .out = nullptr});
    CHECK(result.metrics == std::vector<std::string>{"test loss", "accuracy"});
    const auto dir =
        std::filesystem::temp_directory_path() / ("ctnn_sweep_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    result.write_csv(dir / "sweep.csv");
    CHECK(read_file(dir / "sweep.csv") ==
          "rate,repeats,test loss_mean,test loss_std,test loss_min,test loss_max,accuracy_mean,"
          "accuracy_std,accuracy_min,accuracy_max\n"
          "0.1,2,0.15,0.0707106781,0.1,0.2,0.9,0,0.9,0.9\n"
          "0.5,2,0.75,0.353553391,0.5,1,0.5,0,0.5,0.5\n");
    CHECK_FALSE(std::filesystem::exists(dir / "sweep.csv.tmp"));
    CHECK_THROWS_AS(result.write_csv(dir / "missing" / "sweep.csv"), std::runtime_error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("sweep: the tables name the axes and the statistics") {
    auto result = ctnn::sweep(
        {{"hidden", {10, 100}}, {"rate", {0.01, 0.1}}},
        [](const ctnn::SweepPoint& p, std::uint64_t) { return p["rate"] * p["hidden"]; },
        {.repeats = 1, .metric = "accuracy", .out = nullptr});
    std::ostringstream rows;
    result.print(rows);
    CHECK(rows.str() ==
          "hidden  rate  accuracy mean  accuracy std  accuracy min  accuracy max\n"
          "10      0.01  0.1000         0.0000        0.1000        0.1000\n"
          "10      0.1   1.0000         0.0000        1.0000        1.0000\n"
          "100     0.01  1.0000         0.0000        1.0000        1.0000\n"
          "100     0.1   10.0000        0.0000        10.0000       10.0000\n");
    std::ostringstream table;
    result.print_table(table, "accuracy", "hidden", "rate");
    CHECK(table.str() ==
          "accuracy (mean ± std over 1 run)\n"
          "hidden \\ rate  0.01             0.1\n"
          "10             0.1000 ± 0.0000  1.0000 ± 0.0000\n"
          "100            1.0000 ± 0.0000  10.0000 ± 0.0000\n");
}

TEST_CASE("sweep: a progress line per run") {
    std::ostringstream out;
    ctnn::sweep({{"x", {3}}}, [](const ctnn::SweepPoint& p, std::uint64_t) { return p["x"]; },
                {.repeats = 2, .seed = 5, .metric = "m", .out = &out});
    CHECK(out.str().find("sweep 1/1 (x=3) repeat 2/2, seed 6: m 3.0000 (") != std::string::npos);
}

TEST_CASE("sweep: mistakes are reported") {
    auto constant = [](const ctnn::SweepPoint&, std::uint64_t) { return 1.0; };
    CHECK_THROWS_AS(ctnn::sweep({}, constant, quiet), std::invalid_argument);
    CHECK_THROWS_AS(ctnn::sweep({{"a", {}}}, constant, quiet), std::invalid_argument);
    CHECK_THROWS_AS(ctnn::sweep({{"a", {1}}, {"a", {2}}}, constant, quiet), std::invalid_argument);
    CHECK_THROWS_AS(ctnn::sweep({{"a", {1}}}, constant, {.repeats = 0, .out = nullptr}),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        ctnn::sweep(
            {{"a", {1}}}, [](const ctnn::SweepPoint& p, std::uint64_t) { return p["b"]; }, quiet),
        "ctnn: the sweep has no axis \"b\"", std::invalid_argument);
    CHECK_THROWS_AS(ctnn::sweep(
                        {{"a", {1, 2}}},
                        [](const ctnn::SweepPoint& p, std::uint64_t) {
                            return ctnn::Metrics{{p["a"] == 1 ? "loss" : "accuracy", 0.0}};
                        },
                        quiet),
                    std::invalid_argument);
    auto result = ctnn::sweep({{"a", {1}}}, constant, quiet);
    CHECK_THROWS_AS(result.metric_index("loss"), std::invalid_argument);
    std::ostringstream out;
    CHECK_THROWS_AS(result.print_table(out, "metric", "a", "a"), std::invalid_argument);
}

} // namespace training_sweep_test
