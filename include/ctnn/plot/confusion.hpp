// plot::confusion_matrix(): a heatmap with the count in every cell. Colour
// is the cell's share of its row (the true class), so that the errors of a
// rare class show as strongly as those of a common one.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/plot/canvas.hpp"
#include "ctnn/plot/figure.hpp"
#include "ctnn/training/confusion_matrix.hpp"

namespace ctnn::plot {

struct ConfusionOptions {
    std::string title = "Confusion matrix";
    std::vector<std::string> class_names{};  // empty: "0", "1", ...
    int width = 660, height = 570;
};

// White through mid blue to dark blue as `share` goes from 0 to 1.
inline Rgb heat_colour(double share) {
    constexpr std::array<Rgb, 3> stops{{{247, 251, 255}, {107, 174, 214}, {8, 48, 107}}};
    share = std::clamp(share, 0.0, 1.0) * 2.0;
    const std::size_t i = share >= 1.0 ? 1 : 0;
    const double t = share - double(i);
    auto mix = [t](int a, int b) { return int(a + (b - a) * t + 0.5); };
    return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g),
            mix(stops[i].b, stops[i + 1].b)};
}

namespace detail {

inline std::vector<std::string> class_labels(const ConfusionMatrix& matrix,
                                             const std::vector<std::string>& names) {
    if (!names.empty() && names.size() != matrix.classes())
        throw std::invalid_argument("ctnn: confusion matrix plot got " +
                                    std::to_string(names.size()) + " class names for " +
                                    std::to_string(matrix.classes()) + " classes");
    std::vector<std::string> labels = names;
    for (std::size_t c = labels.size(); c < matrix.classes(); ++c)
        labels.push_back(std::to_string(c));
    return labels;
}

inline double row_share(const ConfusionMatrix& matrix, std::size_t truth, std::size_t predicted) {
    const std::size_t support = matrix.support(truth);
    return support ? double(matrix.count(truth, predicted)) / double(support) : 0.0;
}

} // namespace detail

// Writes the heatmap to `file` (.png or .svg): rows are true classes,
// columns predicted ones, with a colour bar for the shares.
inline void confusion_matrix(const ConfusionMatrix& matrix, const std::filesystem::path& file,
                             const ConfusionOptions& options = {}) {
    const std::size_t n = matrix.classes();
    if (n == 0)
        throw std::invalid_argument("ctnn: cannot plot to " + file.string() + ": no classes");
    const std::vector<std::string> labels = detail::class_labels(matrix, options.class_names);

    std::string description =
        "Confusion matrix heatmap. Rows: true class; columns: predicted "
        "class; cells: counts, coloured by share of the true class. Counts:";
    // append(), not "literal" + string: GCC 12 warns falsely on that (-Wrestrict).
    for (std::size_t t = 0; t < n; ++t) {
        description.append(t ? "; " : " ").append(labels[t]).append(":");
        for (std::size_t p = 0; p < n; ++p)
            description.append(" ").append(std::to_string(matrix.count(t, p)));
    }

    write_figure(
        file, options.width, options.height, {options.title, description}, [&](cairo_t* cr) {
            const double left = 78, top = 44, right = 120, bottom = 62;
            const double side =
                std::min(options.width - left - right, options.height - top - bottom);
            const double cell = side / double(n);
            const double x0 = left, y0 = top;
            const TextStyle count_style{.size = std::clamp(cell * 0.3, 7.0, 16.0)};

            for (std::size_t t = 0; t < n; ++t)
                for (std::size_t p = 0; p < n; ++p) {
                    const double share = detail::row_share(matrix, t, p);
                    set_colour(cr, heat_colour(share));
                    cairo_rectangle(cr, x0 + double(p) * cell, y0 + double(t) * cell, cell, cell);
                    cairo_fill(cr);
                    const double grey = share > 0.5 ? 1.0 : 0.0;
                    cairo_set_source_rgb(cr, grey, grey, grey);
                    draw_text(cr, std::to_string(matrix.count(t, p)), x0 + (double(p) + 0.5) * cell,
                              y0 + (double(t) + 0.5) * cell, count_style);
                }
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_set_line_width(cr, 1.0);
            cairo_rectangle(cr, x0, y0, side, side);
            cairo_stroke(cr);

            const TextStyle tick{.size = 11};
            for (std::size_t c = 0; c < n; ++c) {
                draw_text(cr, labels[c], x0 + (double(c) + 0.5) * cell, y0 + side + 6,
                          {.size = tick.size, .vertical = Align::start});
                draw_text(cr, labels[c], x0 - 6, y0 + (double(c) + 0.5) * cell,
                          {.size = tick.size, .horizontal = Align::end});
            }
            draw_text(cr, "predicted class", x0 + side / 2, y0 + side + 30,
                      {.size = 13, .vertical = Align::start});
            draw_text(cr, "true class", 8, y0 + side / 2,
                      {.size = 13, .vertical = Align::start, .angle = std::numbers::pi / 2});
            draw_text(cr, options.title, x0 + side / 2, 10,
                      {.size = 16, .bold = true, .vertical = Align::start});

            // Colour bar: the same stops as heat_colour(), top = 100%.
            const double bx = x0 + side + 22, bw = 18;
            cairo_pattern_t* gradient = cairo_pattern_create_linear(0, y0 + side, 0, y0);
            for (double at : {0.0, 0.5, 1.0}) {
                Rgb c = heat_colour(at);
                cairo_pattern_add_color_stop_rgb(gradient, at, c.r / 255.0, c.g / 255.0,
                                                 c.b / 255.0);
            }
            cairo_rectangle(cr, bx, y0, bw, side);
            cairo_set_source(cr, gradient);
            cairo_fill(cr);
            cairo_pattern_destroy(gradient);
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_rectangle(cr, bx + 0.5, y0 + 0.5, bw, side);
            for (int percent = 0; percent <= 100; percent += 25) {
                const double y = y0 + side - side * percent / 100.0;
                cairo_move_to(cr, bx + bw, y);
                cairo_line_to(cr, bx + bw + 4, y);
                draw_text(cr, std::to_string(percent) + "%", bx + bw + 7, y,
                          {.size = tick.size, .horizontal = Align::start});
            }
            cairo_stroke(cr);
            draw_text(cr, "share of the true class", bx + bw + 62, y0 + side / 2,
                      {.size = 12, .vertical = Align::end, .angle = std::numbers::pi / 2});
        });
}

} // namespace ctnn::plot
