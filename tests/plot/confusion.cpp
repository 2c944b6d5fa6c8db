#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <ctnn/plot/confusion.hpp>

#include "plot/plot_support.hpp"

namespace plot_confusion_test {

// Class 0 always right (10 of 10), class 1 split 5/5 between 1 and 2, class 2 never seen.
ctnn::ConfusionMatrix known_counts() {
    ctnn::ConfusionMatrix matrix(3);
    for (int i = 0; i < 10; ++i) matrix.add(0, 0);
    for (int i = 0; i < 5; ++i) matrix.add(1, 1), matrix.add(1, 2);
    return matrix;
}

TEST_CASE("plot confusion matrix: the colour scale runs white, mid blue, dark blue") {
    CHECK(ctnn::plot::heat_colour(0.0) == ctnn::plot::Rgb{247, 251, 255});
    CHECK(ctnn::plot::heat_colour(0.5) == ctnn::plot::Rgb{107, 174, 214});
    CHECK(ctnn::plot::heat_colour(1.0) == ctnn::plot::Rgb{8, 48, 107});
    CHECK(ctnn::plot::heat_colour(2.0) == ctnn::plot::heat_colour(1.0));
}

TEST_CASE("plot confusion matrix: each cell coloured by its share of the true class") {
    plot_test::ScratchDir dir;
    ctnn::plot::confusion_matrix(known_counts(), dir / "confusion.png",
                                 {.width = 600, .height = 560});
    plot_test::Png png(dir / "confusion.png");
    REQUIRE(png.width() == 600);
    REQUIRE(png.height() == 560);
    CHECK(png.pixel(2, 2) == plot_test::white);

    // The grid: 78 px from the left, 44 from the top, 3 cells of (600 - 78 - 120) / 3 = 134 px.
    const double cell = (600 - 78 - 120) / 3.0;
    auto corner = [&](int row, int column) {  // a pixel inside the cell, clear of the centred count
        return png.pixel(int(78 + column * cell + 6), int(44 + row * cell + 6));
    };
    CHECK(corner(0, 0) == ctnn::plot::heat_colour(1.0));
    CHECK(corner(0, 1) == ctnn::plot::heat_colour(0.0));
    CHECK(corner(1, 1) == ctnn::plot::heat_colour(0.5));
    CHECK(corner(1, 2) == ctnn::plot::heat_colour(0.5));
    CHECK(corner(2, 2) == ctnn::plot::heat_colour(0.0));
    // The count is drawn in the cell's centre, light on the dark cell.
    auto light = [](ctnn::plot::Rgb c) { return c.r > 200 && c.g > 200; };
    CHECK(png.count_if(light, int(78 + cell * 0.3), int(44 + cell * 0.3), int(78 + cell * 0.7),
                       int(44 + cell * 0.7)) > 30);
    CHECK(png.count_if(light, int(78 + 6), int(44 + 6), int(78 + cell * 0.3),
                       int(44 + cell * 0.3)) == 0);
}

TEST_CASE("plot confusion matrix: the SVG lists the counts row by row") {
    plot_test::ScratchDir dir;
    ctnn::plot::confusion_matrix(known_counts(), dir / "confusion.svg",
                                 {.title = "Digits", .class_names = {"zero", "one", "two"}});
    const std::string svg = plot_test::read_text(dir / "confusion.svg");
    CHECK(plot_test::looks_like_svg(svg));
    CHECK(svg.find("<title>Digits</title>") != std::string::npos);
    CHECK(svg.find("Counts: zero: 10 0 0; one: 0 5 5; two: 0 0 0") != std::string::npos);
    CHECK(svg.find("Rows: true class; columns: predicted class") != std::string::npos);
}

TEST_CASE("plot confusion matrix: class names must match the classes") {
    plot_test::ScratchDir dir;
    CHECK_THROWS_AS(
        ctnn::plot::confusion_matrix(known_counts(), dir / "c.png", {.class_names = {"a", "b"}}),
        std::invalid_argument);
}

} // namespace plot_confusion_test
