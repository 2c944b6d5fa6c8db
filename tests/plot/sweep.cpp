#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include <ctnn/plot/sweep.hpp>

#include "plot/plot_support.hpp"

namespace plot_sweep_test {

// Accuracy rising with the hidden size, higher for the larger rate, with a
// seed-dependent wobble.
ctnn::SweepResult two_axis_sweep() {
    return ctnn::sweep({{"hidden", {10, 100, 1000}}, {"rate", {0.01, 0.1}}},
                       [](const ctnn::SweepPoint& p, std::uint64_t seed) {
                           return 0.5 + p["hidden"] / 4000.0 + p["rate"] + 0.01 * double(seed % 2);
                       },
                       {.repeats = 2, .metric = "accuracy", .out = nullptr});
}

TEST_CASE("plot sweep: a line per series value, labelled axes and legend") {
    plot_test::ScratchDir dir;
    const ctnn::SweepResult result = two_axis_sweep();
    const ctnn::plot::SweepOptions options{.metric = "accuracy", .x = "hidden", .series = "rate"};
    ctnn::plot::sweep(result, dir / "sweep.png", options);
    plot_test::Png png(dir / "sweep.png");
    REQUIRE(png.width() == 820);
    REQUIRE(png.height() == 500);
    CHECK(png.pixel(0, 0) == plot_test::white);
    CHECK(png.count(ctnn::plot::palette[0]) > 100);
    CHECK(png.count(ctnn::plot::palette[1]) > 100);
    CHECK(png.count(ctnn::plot::palette[2]) == 0);

    ctnn::plot::sweep(result, dir / "sweep.svg", options);
    const std::string svg = plot_test::read_text(dir / "sweep.svg");
    CHECK(plot_test::looks_like_svg(svg));
    CHECK(svg.find("<title>accuracy by hidden and rate</title>") != std::string::npos);
    CHECK(svg.find("x axis: hidden; y axis: accuracy; rate: 0.01, 0.1") != std::string::npos);
    CHECK(svg.find("mean of 2 runs") != std::string::npos);
}

TEST_CASE("plot sweep: the axes named must cover the sweep's") {
    plot_test::ScratchDir dir;
    const ctnn::SweepResult result = two_axis_sweep();
    CHECK_THROWS_AS(ctnn::plot::sweep(result, dir / "s.png", {.metric = "accuracy", .x = "hidden"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(ctnn::plot::sweep(result, dir / "s.png",
                                      {.metric = "loss", .x = "hidden", .series = "rate"}),
                    std::invalid_argument);
}

} // namespace plot_sweep_test
