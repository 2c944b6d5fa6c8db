#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include <ctnn/plot/canvas.hpp>

#include "plot/plot_support.hpp"

namespace plot_canvas_test {

void red_square(cairo_t* cr) {
    cairo_set_source_rgb(cr, 1, 0, 0);
    cairo_rectangle(cr, 10, 10, 20, 20);
    cairo_fill(cr);
}

TEST_CASE("plot canvas: the file's extension picks PNG or SVG, in any case") {
    CHECK(ctnn::plot::format_of("a/b.png") == ctnn::plot::Format::png);
    CHECK(ctnn::plot::format_of("b.SVG") == ctnn::plot::Format::svg);
    CHECK_THROWS_WITH_AS(ctnn::plot::format_of("figure.jpg"),
                         "ctnn: cannot plot to figure.jpg: the extension must be .png or .svg",
                         std::invalid_argument);
}

TEST_CASE("plot canvas: a PNG of the given size, white where nothing was drawn") {
    plot_test::ScratchDir dir;
    ctnn::plot::write_figure(dir / "square.png", 64, 48, {"t", "d"}, red_square);
    plot_test::Png png(dir / "square.png");
    CHECK(png.width() == 64);
    CHECK(png.height() == 48);
    CHECK(png.pixel(0, 0) == plot_test::white);
    CHECK(png.pixel(20, 20) == ctnn::plot::Rgb{255, 0, 0});
    CHECK(png.count({255, 0, 0}) == 400);
    CHECK_FALSE(std::filesystem::exists(dir / "square.png.tmp"));
}

TEST_CASE("plot canvas: an SVG carries the caption as <title> and <desc>, escaped") {
    plot_test::ScratchDir dir;
    ctnn::plot::write_figure(dir / "square.svg", 64, 48, {"Loss & accuracy", "x < y"}, red_square);
    const std::string svg = plot_test::read_text(dir / "square.svg");
    CHECK(plot_test::looks_like_svg(svg));
    CHECK(svg.find("<title>Loss &amp; accuracy</title>") != std::string::npos);
    CHECK(svg.find("<desc>x &lt; y</desc>") != std::string::npos);
    CHECK(svg.find("width=\"64px\"") != std::string::npos);
}

TEST_CASE("plot canvas: failures name the file, and an existing file survives them") {
    plot_test::ScratchDir dir;
    const auto missing = dir / "no" / "such" / "folder" / "plot.png";
    CHECK_THROWS_WITH_AS(ctnn::plot::write_figure(missing, 8, 8, {}, red_square),
                         ("ctnn: cannot write the plot " + missing.string()).c_str(),
                         std::runtime_error);

    ctnn::plot::write_figure(dir / "kept.png", 64, 48, {}, red_square);
    CHECK_THROWS_AS(
        ctnn::plot::write_figure(dir / "kept.png", 64, 48, {},
                                 [](cairo_t*) { throw std::runtime_error("drawing failed"); }),
        std::runtime_error);
    CHECK(plot_test::Png(dir / "kept.png").count({255, 0, 0}) == 400);
}

} // namespace plot_canvas_test
