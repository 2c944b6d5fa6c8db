// What the plot tests share: a scratch folder, and PNG and SVG files read back.
#pragma once

#include <cairo.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <ctnn/plot/figure.hpp>

namespace plot_test {

// A fresh folder under the system's temporary directory, removed afterwards.
struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ctnn_plot_XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
        path = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

// A PNG decoded by cairo; pixel() gives opaque colours as 8-bit RGB.
class Png {
public:
    explicit Png(const std::filesystem::path& file)
        : surface_(cairo_image_surface_create_from_png(file.c_str()), cairo_surface_destroy) {
        if (cairo_surface_status(surface_.get()) != CAIRO_STATUS_SUCCESS)
            throw std::runtime_error("cannot decode " + file.string());
    }
    int width() const { return cairo_image_surface_get_width(surface_.get()); }
    int height() const { return cairo_image_surface_get_height(surface_.get()); }
    ctnn::plot::Rgb pixel(int x, int y) const {
        const unsigned char* row =
            cairo_image_surface_get_data(surface_.get()) +
            std::size_t(y) * std::size_t(cairo_image_surface_get_stride(surface_.get()));
        std::uint32_t argb = reinterpret_cast<const std::uint32_t*>(row)[x];
        return {int(argb >> 16 & 0xff), int(argb >> 8 & 0xff), int(argb & 0xff)};
    }
    // How many pixels in [x0, x1) x [y0, y1) have exactly this colour, or pass the test.
    template <class Test>
    std::size_t count_if(Test test, int x0, int y0, int x1, int y1) const {
        std::size_t n = 0;
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) n += test(pixel(x, y));
        return n;
    }
    std::size_t count(ctnn::plot::Rgb colour, int x0, int y0, int x1, int y1) const {
        return count_if([&](ctnn::plot::Rgb c) { return c == colour; }, x0, y0, x1, y1);
    }
    std::size_t count(ctnn::plot::Rgb colour) const {
        return count(colour, 0, 0, width(), height());
    }

private:
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface_;
};

inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline constexpr ctnn::plot::Rgb white{255, 255, 255};

// An SVG file that starts as XML and closes its root element.
inline bool looks_like_svg(const std::string& text) {
    return text.rfind("<?xml", 0) == 0 && text.find("<svg") != std::string::npos &&
           text.find("</svg>") != std::string::npos;
}

} // namespace plot_test
