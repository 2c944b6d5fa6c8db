#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include <ctnn/plot/history.hpp>

#include "plot/plot_support.hpp"

namespace plot_history_test {

ctnn::History five_epochs(bool validation) {
    ctnn::History history;
    for (int e = 0; e < 5; ++e) {
        ctnn::EpochRecord r;
        r.loss = 1.0f / float(e + 1);
        r.accuracy = 0.5f + 0.08f * float(e);
        if (validation) {
            r.val_loss = r.loss + 0.1f;
            r.val_accuracy = r.accuracy - 0.05f;
        }
        history.epochs.push_back(r);
    }
    return history;
}

TEST_CASE("plot history: loss and accuracy panels, training and validation in their colours") {
    plot_test::ScratchDir dir;
    ctnn::plot::history(five_epochs(true), dir / "history.png", {.title = "MLP history"});
    plot_test::Png png(dir / "history.png");
    REQUIRE(png.width() == 1000);
    REQUIRE(png.height() == 420);
    CHECK(png.pixel(0, 0) == plot_test::white);
    CHECK(png.pixel(999, 419) == plot_test::white);
    const ctnn::plot::Rgb training = ctnn::plot::palette[0], validation = ctnn::plot::palette[1];
    // Both series in both panels (markers are solid discs), legend included.
    CHECK(png.count(training, 0, 0, 500, 420) > 60);
    CHECK(png.count(training, 500, 0, 1000, 420) > 60);
    CHECK(png.count(validation, 0, 0, 500, 420) > 60);
    CHECK(png.count(validation, 500, 0, 1000, 420) > 60);

    ctnn::plot::history(five_epochs(true), dir / "history.svg", {.title = "MLP history"});
    const std::string svg = plot_test::read_text(dir / "history.svg");
    CHECK(plot_test::looks_like_svg(svg));
    CHECK(svg.find("<title>MLP history</title>") != std::string::npos);
    for (const char* words :
         {"x axis: epoch; y axis: loss", "y axis: accuracy (%)", "series: training, validation"})
        CHECK_MESSAGE(svg.find(words) != std::string::npos, words);
}

TEST_CASE("plot history: without validation figures only the training curves show") {
    plot_test::ScratchDir dir;
    ctnn::plot::history(five_epochs(false), dir / "history.png");
    plot_test::Png png(dir / "history.png");
    CHECK(png.count(ctnn::plot::palette[0]) > 100);
    CHECK(png.count(ctnn::plot::palette[1]) == 0);
    ctnn::plot::history(five_epochs(false), dir / "history.svg");
    CHECK(plot_test::read_text(dir / "history.svg").find("validation") == std::string::npos);
}

TEST_CASE("plot history: an empty history is an error") {
    plot_test::ScratchDir dir;
    CHECK_THROWS_AS(ctnn::plot::history(ctnn::History{}, dir / "empty.png"), std::invalid_argument);
}

TEST_CASE("plot figure: ticks at 1, 2 or 5 times a power of ten, covering the data") {
    auto ticks = ctnn::plot::nice_ticks(0.13, 0.92);
    CHECK(ticks.step == doctest::Approx(0.2));
    CHECK(ticks.first == doctest::Approx(0.0));
    CHECK(ticks.last == doctest::Approx(1.0));
    CHECK(ticks.values().size() == 6);
    CHECK(ctnn::plot::tick_label(0.4, 0.2) == "0.4");
    auto epochs = ctnn::plot::nice_ticks(1, 3, 6, true);
    CHECK(epochs.step == 1.0);
    CHECK(ctnn::plot::tick_label(2, 1) == "2");
    auto flat = ctnn::plot::nice_ticks(5, 5);
    CHECK(flat.first < 5.0);
    CHECK(flat.last > 5.0);
}

} // namespace plot_history_test
