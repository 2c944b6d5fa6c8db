// Grids of small images: a convolution's kernels (plot::kernels) and a
// layer's activation maps for one input (plot::activations), on top of
// plot::image_grid for any tiles.
#pragma once

#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/core/parameters.hpp"
#include "ctnn/plot/canvas.hpp"
#include "ctnn/training/batching.hpp"
#include "ctnn/plot/figure.hpp"

namespace ctnn::plot {

// How a one-channel tile's values become colours; each tile is scaled on its
// own, as its values may differ by orders of magnitude from its neighbours'.
enum class Colormap {
    grey,       // minimum black, maximum white
    diverging,  // blue negative, white zero, red positive, scaled by the largest |value|
};

// One image: `channels` (1, or 3 for red, green, blue) planes of height x
// width values, channels first. Three-channel tiles map their minimum to
// black and their maximum to white on all channels together.
struct Tile {
    std::string caption;
    std::size_t channels = 1, height = 0, width = 0;
    std::vector<float> values;
};

struct GridOptions {
    std::string title{};
    std::string note{};  // a line under the grid saying how to read it
    Colormap colormap = Colormap::grey;
    std::size_t columns = 0;  // 0: about square
    int tile_pixels = 64;     // a tile's longer side, rounded to whole pixels per value
};

namespace detail {

inline Rgb tile_colour(float v, float lo, float hi, Colormap colormap) {
    auto channel = [](double t) { return int(std::lround(std::clamp(t, 0.0, 1.0) * 255.0)); };
    if (colormap == Colormap::diverging) {
        const double scale = std::max(std::abs(lo), std::abs(hi));
        const double t = scale > 0 ? double(v) / scale : 0.0;
        // Towards red (214, 39, 40) above zero, blue (31, 119, 180) below.
        const Rgb end = t >= 0 ? Rgb{214, 39, 40} : Rgb{31, 119, 180};
        const double a = std::abs(t);
        return {channel((255 + (end.r - 255) * a) / 255.0),
                channel((255 + (end.g - 255) * a) / 255.0),
                channel((255 + (end.b - 255) * a) / 255.0)};
    }
    const int g = channel(hi > lo ? (double(v) - lo) / (double(hi) - lo) : 0.5);
    return {g, g, g};
}

// The tile as a cairo image, one pixel per value.
inline SurfaceHandle tile_surface(const Tile& tile, Colormap colormap) {
    SurfaceHandle image(
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, int(tile.width), int(tile.height)),
        cairo_surface_destroy);
    const auto [lo_it, hi_it] = std::ranges::minmax_element(tile.values);
    const float lo = *lo_it, hi = *hi_it;
    const std::size_t plane = tile.height * tile.width;
    unsigned char* data = cairo_image_surface_get_data(image.get());
    const int stride = cairo_image_surface_get_stride(image.get());
    cairo_surface_flush(image.get());
    for (std::size_t y = 0; y < tile.height; ++y)
        for (std::size_t x = 0; x < tile.width; ++x) {
            const std::size_t i = y * tile.width + x;
            Rgb c;
            if (tile.channels == 3) {
                auto level = [&](std::size_t ch) {
                    return tile_colour(tile.values[ch * plane + i], lo, hi, Colormap::grey).r;
                };
                c = {level(0), level(1), level(2)};
            } else {
                c = tile_colour(tile.values[i], lo, hi, colormap);
            }
            auto* pixel = reinterpret_cast<std::uint32_t*>(data + y * std::size_t(stride)) + x;
            *pixel = std::uint32_t(c.r) << 16 | std::uint32_t(c.g) << 8 | std::uint32_t(c.b);
        }
    cairo_surface_mark_dirty(image.get());
    return image;
}

inline void check_tiles(const std::vector<Tile>& tiles, const std::filesystem::path& file) {
    if (tiles.empty())
        throw std::invalid_argument("ctnn: cannot plot to " + file.string() + ": no images");
    for (const Tile& t : tiles)
        if ((t.channels != 1 && t.channels != 3) || t.height == 0 || t.width == 0 ||
            t.values.size() != t.channels * t.height * t.width)
            throw std::invalid_argument("ctnn: cannot plot to " + file.string() + ": image \"" +
                                        t.caption + "\" has " + std::to_string(t.values.size()) +
                                        " values for " + std::to_string(t.channels) + "x" +
                                        std::to_string(t.height) + "x" + std::to_string(t.width) +
                                        " (1 or 3 channels)");
}

} // namespace detail

// Writes the tiles as a captioned grid to `file` (.png or .svg).
inline void image_grid(const std::vector<Tile>& tiles, const std::filesystem::path& file,
                       const GridOptions& options) {
    detail::check_tiles(tiles, file);
    std::size_t tall = 1, wide = 1;
    for (const Tile& t : tiles) {
        tall = std::max(tall, t.height);
        wide = std::max(wide, t.width);
    }
    const int scale = std::max(1, int(options.tile_pixels / double(std::max(tall, wide)) + 0.5));
    const std::size_t columns =
        options.columns ? options.columns : std::size_t(std::ceil(std::sqrt(double(tiles.size()))));
    const std::size_t rows = (tiles.size() + columns - 1) / columns;
    const double cell_w = double(wide) * scale + 10, cell_h = double(tall) * scale + 20;
    const double top = 46, margin = 16, bottom = options.note.empty() ? 12 : 34;
    const int width = int(std::max(columns * cell_w + 2 * margin, 420.0));
    const int height = int(top + rows * cell_h + bottom);

    std::string description = options.note.empty() ? "" : options.note + " ";
    description += "Grid of " + std::to_string(tiles.size()) + " images:";
    for (std::size_t i = 0; i < tiles.size(); ++i)
        description += (i ? ", " : " ") + tiles[i].caption;
    description += ".";

    write_figure(file, width, height, {options.title, description}, [&](cairo_t* cr) {
        const double left = (width - columns * cell_w) / 2;
        cairo_set_source_rgb(cr, 0, 0, 0);
        draw_text(cr, options.title, width / 2.0, 10,
                  {.size = 16, .bold = true, .vertical = Align::start});
        for (std::size_t i = 0; i < tiles.size(); ++i) {
            const Tile& tile = tiles[i];
            const double x = std::round(left + double(i % columns) * cell_w + 5);
            const double y = std::round(top + double(i / columns) * cell_h);
            detail::SurfaceHandle image = detail::tile_surface(tile, options.colormap);
            cairo_save(cr);
            cairo_translate(cr, x, y);
            cairo_scale(cr, scale, scale);
            cairo_set_source_surface(cr, image.get(), 0, 0);
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
            cairo_rectangle(cr, 0, 0, double(tile.width), double(tile.height));
            cairo_fill(cr);
            cairo_restore(cr);
            cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
            cairo_set_line_width(cr, 1.0);
            cairo_rectangle(cr, x - 0.5, y - 0.5, double(tile.width) * scale + 1,
                            double(tile.height) * scale + 1);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
            draw_text(cr, tile.caption, x + double(tile.width) * scale / 2,
                      y + double(tile.height) * scale + 3, {.size = 10, .vertical = Align::start});
        }
        draw_text(cr, options.note, width / 2.0, height - 8.0,
                  {.size = 11, .vertical = Align::end});
    });
}

namespace detail {

template <class Net, std::size_t LayerIndex>
using bound_at = boost::mp11::mp_at_c<typename Net::layers, LayerIndex - 1>;

// Whether layer Bound declares a "kernel" laid out (filters, channels,
// height, width), as a convolution does.
template <class Bound>
constexpr bool has_image_kernel() {
    for (const ParameterArray& array : default_arrays<ParameterArray, typename Bound::layer, typename Bound::input_shape>)
        if (array.name == "kernel" && array.layout == Layout::filters_first && array.shape.rank == 4) return true;
    return false;
}

// The parts appended in turn: GCC 12 warns falsely (-Wrestrict) on
// std::string&& + std::string&&, depending on what it inlines.
inline std::string joined(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (std::string_view part : parts) text += part;
    return text;
}

// kernels() once the layer is known to have one: `kernel` is (F, C, KH, KW).
template <class Kernel>
void kernel_grid(const Kernel& kernel, std::string_view type, std::size_t layer_index,
                 const std::filesystem::path& file, GridOptions options) {
    const std::size_t filters = kernel.shape()[0], channels = kernel.shape()[1];
    const std::size_t kh = kernel.shape()[2], kw = kernel.shape()[3], size = kh * kw;
    std::vector<Tile> tiles;
    for (std::size_t f = 0; f < filters; ++f) {
        const float* weights = kernel.data() + f * channels * size;
        const std::string filter = joined({"filter ", std::to_string(f)});
        if (channels == 3) {
            tiles.push_back({filter, 3, kh, kw, {weights, weights + 3 * size}});
            continue;
        }
        for (std::size_t c = 0; c < channels; ++c)
            tiles.push_back({channels == 1 ? filter
                                           : joined({"f", std::to_string(f), " c", std::to_string(c)}),
                             1,
                             kh,
                             kw,
                             {weights + c * size, weights + (c + 1) * size}});
    }
    if (options.title.empty())
        options.title = joined({"Layer ", std::to_string(layer_index), " (", type, ") kernels, ",
                                std::to_string(kh), "x", std::to_string(kw)});
    if (options.note.empty())
        options.note = channels == 3
                           ? "Each kernel in RGB, scaled from its smallest weight (black) "
                             "to its largest (white)."
                       : options.colormap == Colormap::diverging
                           ? "Blue: negative weight, white: zero, red: positive; each kernel "
                             "scaled to its largest |weight|."
                           : "Each kernel scaled from its smallest weight (black) to its largest "
                             "(white).";
    image_grid(tiles, file, options);
}

} // namespace detail

// The kernels of layer LayerIndex (counted as Network::layer<I>() counts: 1
// is the layer after the Input), which declares a (filters, channels, height,
// width) kernel (Conv2D), one tile per filter: in colour for three input
// channels, else one tile per filter and channel.
template <std::size_t LayerIndex, class Net>
void kernels(const Net& net, const std::filesystem::path& file, GridOptions options = {}) {
    static_assert(LayerIndex >= 1 && LayerIndex <= Net::layer_count,
                  "ctnn: plot::kernels: layer index out of range (1 is the layer after the Input)");
    using Bound = detail::bound_at<Net, LayerIndex>;
    constexpr bool convolution = detail::has_image_kernel<Bound>();
    static_assert(convolution, "ctnn: plot::kernels needs a layer with a (filters, channels, height, "
                               "width) kernel, such as Conv2D");
    if constexpr (convolution)
        detail::kernel_grid(net.template parameter<LayerIndex, "kernel">(), Bound::layer::type_name,
                            LayerIndex, file, std::move(options));
}

// The activation maps that layer LayerIndex computes for one `input` sample
// (inference mode), after a tile of the input itself when it is an image.
template <std::size_t LayerIndex, class Net>
void activations(Net& net, std::span<const float> input, const std::filesystem::path& file,
                 GridOptions options = {}) {
    static_assert(
        LayerIndex >= 1 && LayerIndex <= Net::layer_count,
        "ctnn: plot::activations: layer index out of range (1 is the layer after the Input)");
    using Bound = detail::bound_at<Net, LayerIndex>;
    using Out = typename Bound::output_shape;
    using In = typename Net::input_shape;
    static_assert(Out::rank == 3,
                  "ctnn: plot::activations needs a layer with a (channels, height, "
                  "width) output");
    // Layers inside a fused group keep their outputs only when asked.
    ctnn::detail::Staging<typename Net::backend_type> staging;
    net.forward_keeping_outputs({staging.to_device(net.backend(), input.data(), input.size()), input.size()}, 1);
    const auto maps = net.template layer_output<LayerIndex>();

    std::vector<Tile> tiles;
    if constexpr (In::rank == 3 && (In::dims[0] == 1 || In::dims[0] == 3))
        tiles.push_back(
            {"input", In::dims[0], In::dims[1], In::dims[2], {input.begin(), input.end()}});
    constexpr std::size_t plane = Out::dims[1] * Out::dims[2];
    for (std::size_t c = 0; c < Out::dims[0]; ++c) {
        const float* map = maps.data() + c * plane;
        tiles.push_back(
            {"map " + std::to_string(c), 1, Out::dims[1], Out::dims[2], {map, map + plane}});
    }
    if (options.title.empty())
        options.title = "Layer " + std::to_string(LayerIndex) + " (" +
                        std::string(Bound::layer::type_name) + ") activation maps for one input";
    if (options.note.empty())
        options.note = "Each map scaled from its smallest value (black) to its largest (white).";
    image_grid(tiles, file, options);
}

} // namespace ctnn::plot
