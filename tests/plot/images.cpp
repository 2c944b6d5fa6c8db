#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/plot/images.hpp>

#include "plot/plot_support.hpp"
#include "support/backends.hpp"

namespace plot_images_test {

using Net = ctnn::Sequential<ctnn::Input<1, 6, 6>, ctnn::Conv2D<2, 3>, ctnn::ReLU, ctnn::Flatten,
                             ctnn::Dense<2>>;

constexpr ctnn::plot::Rgb blue{31, 119, 180}, red{214, 39, 40};

TEST_CASE("plot images: diverging colours are blue below zero, white at zero, red above") {
    using ctnn::plot::Colormap;
    using ctnn::plot::detail::tile_colour;
    CHECK(tile_colour(-2.0f, -2.0f, 1.0f, Colormap::diverging) == blue);
    CHECK(tile_colour(0.0f, -2.0f, 1.0f, Colormap::diverging) == plot_test::white);
    CHECK(tile_colour(2.0f, -1.0f, 2.0f, Colormap::diverging) == red);
    CHECK(tile_colour(3.0f, 3.0f, 5.0f, Colormap::grey) == ctnn::plot::Rgb{0, 0, 0});
    CHECK(tile_colour(5.0f, 3.0f, 5.0f, Colormap::grey) == plot_test::white);
}

TEST_CASE("plot images: a grid of tiles, each scaled to its own range") {
    plot_test::ScratchDir dir;
    // Two 2x2 tiles of very different ranges: both show black and white.
    std::vector<ctnn::plot::Tile> tiles{{"small", 1, 2, 2, {0.f, 1.f, 2.f, 3.f}},
                                        {"large", 1, 2, 2, {100.f, 400.f, 200.f, 300.f}}};
    ctnn::plot::image_grid(tiles, dir / "grid.png", {.title = "Tiles", .tile_pixels = 40});
    plot_test::Png png(dir / "grid.png");
    CHECK(png.width() >= 420);
    // 20 px per value, tiles 46 px from the top: each tile shows its four
    // values as black, two greys and white, whatever its range.
    const int w = png.width();
    CHECK(png.count({0, 0, 0}, 0, 46, w, 86) == 2 * 400);
    CHECK(png.count({85, 85, 85}, 0, 46, w, 86) == 2 * 400);
    CHECK(png.count({170, 170, 170}, 0, 46, w, 86) == 2 * 400);
    CHECK(png.count(plot_test::white, 0, 46, w, 86) > 2 * 400);

    tiles[1].values.pop_back();
    CHECK_THROWS_AS(ctnn::plot::image_grid(tiles, dir / "bad.png", {}), std::invalid_argument);
}

TEST_CASE_TEMPLATE("plot images: the kernels of a Conv2D layer, read from its parameters", Backend,
                   CTNN_TEST_BACKENDS) {
    plot_test::ScratchDir dir;
    typename Net::template on<Backend> net{ctnn::Seed{1}};
    // Through the host, so that a device network is drawn from what it holds.
    std::vector<float> params = net.host_parameters();
    std::fill_n(params.begin(), 2 * 9 + 2, 0.0f);  // layer 1: kernel (2, 1, 3, 3), bias (2)
    params[0] = -1.0f;     // filter 0: one blue value, the rest white
    params[9 + 8] = 1.0f;  // filter 1: one red value
    net.set_parameters(params);
    ctnn::plot::kernels<1>(net, dir / "kernels.png", {.colormap = ctnn::plot::Colormap::diverging});
    plot_test::Png png(dir / "kernels.png");
    const int side = 21;  // pixels per kernel value: 64 / 3, rounded
    CHECK(png.count(blue) == std::size_t(side * side));
    CHECK(png.count(red) == std::size_t(side * side));

    ctnn::plot::kernels<1>(net, dir / "kernels.svg");
    const std::string svg = plot_test::read_text(dir / "kernels.svg");
    CHECK(plot_test::looks_like_svg(svg));
    CHECK(svg.find("<title>Layer 1 (Conv2D) kernels, 3x3</title>") != std::string::npos);
    CHECK(svg.find("Grid of 2 images: filter 0, filter 1.") != std::string::npos);
}

TEST_CASE_TEMPLATE("plot images: a layer's activation maps for one input, after the input", Backend,
                   CTNN_TEST_BACKENDS) {
    plot_test::ScratchDir dir;
    typename Net::template on<Backend> net{ctnn::Seed{1}};
    std::vector<float> image(36);
    std::iota(image.begin(), image.end(), 0.0f);
    ctnn::plot::activations<2>(net, image, dir / "maps.svg");
    const std::string svg = plot_test::read_text(dir / "maps.svg");
    CHECK(svg.find("<title>Layer 2 (ReLU) activation maps for one input</title>") !=
          std::string::npos);
    CHECK(svg.find("Grid of 3 images: input, map 0, map 1.") != std::string::npos);
    ctnn::plot::activations<2>(net, image, dir / "maps.png");
    CHECK(plot_test::Png(dir / "maps.png").pixel(0, 0) == plot_test::white);
    CHECK_THROWS_AS(ctnn::plot::activations<2>(net, std::vector<float>(35), dir / "maps.png"),
                    std::invalid_argument);
}

} // namespace plot_images_test
