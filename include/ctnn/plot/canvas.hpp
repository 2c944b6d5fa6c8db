// A figure file: cairo draws on a PNG or an SVG surface, chosen by the file's
// extension, and the bytes land on disk atomically (temporary file + rename).
#pragma once

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn::plot {

enum class Format { png, svg };

// ".png" or ".svg", in any case; anything else throws with the path.
inline Format format_of(const std::filesystem::path& file) {
    std::string extension = file.extension().string();
    std::ranges::transform(extension, extension.begin(),
                           [](unsigned char c) { return char(std::tolower(c)); });
    if (extension == ".png") return Format::png;
    if (extension == ".svg") return Format::svg;
    throw std::invalid_argument("ctnn: cannot plot to " + file.string() +
                                ": the extension must be .png or .svg");
}

// What the figure shows, in words. cairo writes SVG text as glyph outlines,
// so these become the SVG's <title> and <desc>: searchable and read aloud.
struct Caption {
    std::string title;
    std::string description;
};

namespace detail {

using SurfaceHandle = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextHandle = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

inline cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

inline std::string xml_escaped(std::string_view text) {
    std::string escaped;
    for (char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            case '"':
                escaped += "&quot;";
                break;
            default:
                escaped += c;
        }
    }
    return escaped;
}

// <title> and <desc> go first inside the root <svg> element.
inline std::string with_caption(std::string svg, const Caption& caption) {
    std::size_t root = svg.find("<svg");
    std::size_t end = root == std::string::npos ? root : svg.find('>', root);
    if (end == std::string::npos) return svg;
    svg.insert(end + 1, "\n<title>" + xml_escaped(caption.title) + "</title>\n<desc>" +
                            xml_escaped(caption.description) + "</desc>");
    return svg;
}

inline void write_atomically(const std::filesystem::path& file, const std::string& bytes) {
    std::filesystem::path temporary = file;
    temporary += ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary);
        out.write(bytes.data(), std::streamsize(bytes.size()));
        if (!out.flush()) throw std::runtime_error("ctnn: cannot write the plot " + file.string());
    }
    std::error_code error;
    std::filesystem::rename(temporary, file, error);
    if (error) {
        std::filesystem::remove(temporary, error);
        throw std::runtime_error("ctnn: cannot write the plot " + file.string() + ": " +
                                 error.message());
    }
}

inline void check(cairo_status_t status, const std::filesystem::path& file) {
    if (status != CAIRO_STATUS_SUCCESS)
        throw std::runtime_error("ctnn: cannot plot to " + file.string() + ": " +
                                 cairo_status_to_string(status));
}

} // namespace detail

// Draws a width x height figure (pixels in the PNG, CSS pixels in the SVG) on
// a white background with draw(cairo_t*) and writes it to `file`.
inline void write_figure(const std::filesystem::path& file, int width, int height,
                         const Caption& caption, const std::function<void(cairo_t*)>& draw) {
    const Format format = format_of(file);
    std::string bytes;
    detail::SurfaceHandle surface(
        format == Format::png
            ? cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height)
            : cairo_svg_surface_create_for_stream(detail::append_bytes, &bytes, width, height),
        cairo_surface_destroy);
    detail::check(cairo_surface_status(surface.get()), file);
    if (format == Format::svg)
        cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
    {
        detail::ContextHandle cr(cairo_create(surface.get()), cairo_destroy);
        cairo_set_source_rgb(cr.get(), 1.0, 1.0, 1.0);
        cairo_paint(cr.get());
        draw(cr.get());
        detail::check(cairo_status(cr.get()), file);
    }
    if (format == Format::png) {
        cairo_surface_flush(surface.get());
        detail::check(
            cairo_surface_write_to_png_stream(surface.get(), detail::append_bytes, &bytes), file);
    } else {
        cairo_surface_finish(surface.get());
        detail::check(cairo_surface_status(surface.get()), file);
        bytes = detail::with_caption(std::move(bytes), caption);
    }
    detail::write_atomically(file, bytes);
}

} // namespace ctnn::plot
