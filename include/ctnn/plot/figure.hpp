// Drawing on a cairo context: colours, text, "nice" ticks, and line charts
// with a title, labelled axes, a legend and optional error bars. The concrete
// plots (history, sweeps) describe a LineChart and hand it to draw().
#pragma once

#include <cairo.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "ctnn/plot/canvas.hpp"

namespace ctnn::plot {

// 8-bit channels, so that a solid fill lands in a PNG as exactly this colour.
struct Rgb {
    int r = 0, g = 0, b = 0;
    friend bool operator==(const Rgb&, const Rgb&) = default;
};

// Matplotlib's "tab10" cycle: series i is drawn in palette[i % 10].
inline constexpr std::array<Rgb, 10> palette{{{31, 119, 180},
                                              {255, 127, 14},
                                              {44, 160, 44},
                                              {214, 39, 40},
                                              {148, 103, 189},
                                              {140, 86, 75},
                                              {227, 119, 194},
                                              {127, 127, 127},
                                              {188, 189, 34},
                                              {23, 190, 207}}};

inline void set_colour(cairo_t* cr, Rgb c) {
    cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

struct Box {
    double x = 0, y = 0, width = 0, height = 0;
    double right() const { return x + width; }
    double bottom() const { return y + height; }
};

enum class Align { start, centre, end };

struct TextStyle {
    double size = 12.0;
    bool bold = false;
    Align horizontal = Align::centre;
    Align vertical = Align::centre;
    double angle = 0.0;  // radians, counter-clockwise (-pi/2 for a y-axis label)
};

inline void select_font(cairo_t* cr, const TextStyle& style) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, style.size);
}

inline double text_width(cairo_t* cr, const std::string& text, const TextStyle& style) {
    select_font(cr, style);
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text.c_str(), &extents);
    return extents.x_advance;
}

// Draws `text` anchored at (x, y) in the current colour.
inline void draw_text(cairo_t* cr, const std::string& text, double x, double y,
                      const TextStyle& style) {
    select_font(cr, style);
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text.c_str(), &extents);
    cairo_font_extents_t font;
    cairo_font_extents(cr, &font);
    auto shift = [](Align align, double extent) {
        return align == Align::start ? 0.0 : align == Align::centre ? -extent / 2 : -extent;
    };
    // Vertical placement uses the font's ascent, not this string's, so that
    // labels on one line share a baseline.
    double dx = shift(style.horizontal, extents.x_advance);
    double dy = style.vertical == Align::start    ? font.ascent
                : style.vertical == Align::centre ? font.ascent / 2 - font.descent / 4
                                                  : -font.descent;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -style.angle);
    cairo_move_to(cr, dx, dy);
    cairo_show_text(cr, text.c_str());
    cairo_restore(cr);
}

// Tick positions at 1, 2 or 5 times a power of ten, about `target` of them,
// covering [lo, hi]; `integer` keeps the step whole (epochs).
struct Ticks {
    double first = 0, last = 0, step = 1;
    std::vector<double> values() const {
        std::vector<double> v;
        const auto count = std::size_t(std::llround((last - first) / step)) + 1;
        for (std::size_t i = 0; i < count; ++i) {
            double t = first + double(i) * step;
            v.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);  // no "-0.0"
        }
        return v;
    }
};

inline Ticks nice_ticks(double lo, double hi, int target = 5, bool integer = false) {
    if (!(hi - lo > 1e-12 * std::max(1.0, std::abs(hi)))) {
        double pad = std::max(std::abs(lo) * 0.1, integer ? 1.0 : 0.5);
        lo -= pad;
        hi += pad;
    }
    double rough = (hi - lo) / target;
    double power = std::pow(10.0, std::floor(std::log10(rough)));
    double step = power;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * power >= rough) {
            step = m * power;
            break;
        }
    if (integer) step = std::max(1.0, std::round(step));
    return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

// A tick value with as many decimals as its step needs.
inline std::string tick_label(double value, double step) {
    int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

struct Series {
    std::string name{};
    std::vector<double> x{}, y{};
    // Error bars from low[i] to high[i]; empty for none. NaN y values are gaps.
    std::vector<double> low{}, high{};
};

struct LineChart {
    std::string title{}, x_label{}, y_label{};
    std::vector<Series> series{};
    // When set, x values are indices into these labels, equally spaced
    // (hidden sizes 10 ... 1000 read better so than on a linear axis).
    std::vector<std::string> x_categories{};
    bool integer_x = false;
    std::optional<double> y_min{}, y_max{};  // fixed ends instead of the data's
    std::string legend_title{};
};

namespace detail {

inline bool has_points(const Series& s) {
    return std::ranges::any_of(s.y, [](double v) { return std::isfinite(v); });
}

struct Range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    bool empty() const { return lo > hi; }
};

inline void draw_marker(cairo_t* cr, double x, double y) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, 3.5, 0, 2 * std::numbers::pi);
    cairo_fill(cr);
}

} // namespace detail

// The chart's words, for the SVG's <desc>.
inline std::string describe(const LineChart& chart) {
    std::string text = "Line chart. x axis: " + chart.x_label + "; y axis: " + chart.y_label;
    std::string names;
    for (const Series& s : chart.series)
        if (detail::has_points(s)) names += (names.empty() ? "" : ", ") + s.name;
    if (!names.empty())
        text += "; " + (chart.legend_title.empty() ? std::string("series") : chart.legend_title) +
                ": " + names;
    return text + ".";
}

// Draws the chart inside `box`: title on top, axes with ticks and labels, the
// legend at the right of the plotting area.
inline void draw(cairo_t* cr, const Box& box, const LineChart& chart) {
    const double tick_size = 11, label_size = 13;
    const TextStyle legend_style{.size = 12, .horizontal = Align::start};
    const TextStyle legend_title_style{.size = 12, .bold = true, .horizontal = Align::start};

    std::vector<const Series*> shown;
    for (const Series& s : chart.series)
        if (detail::has_points(s)) shown.push_back(&s);

    detail::Range xs, ys;
    for (const Series* s : shown) {
        for (std::size_t i = 0; i < s->y.size(); ++i) {
            if (!std::isfinite(s->y[i])) continue;
            xs.add(s->x[i]);
            ys.add(s->y[i]);
            if (i < s->low.size()) ys.add(s->low[i]);
            if (i < s->high.size()) ys.add(s->high[i]);
        }
    }
    const bool categorical = !chart.x_categories.empty();
    if (categorical) xs = {-0.5, double(chart.x_categories.size()) - 0.5};
    if (xs.empty()) xs = {0, 1};
    if (ys.empty()) ys = {0, 1};
    if (chart.y_min) ys.lo = *chart.y_min;
    if (chart.y_max) ys.hi = *chart.y_max;
    const Ticks y_ticks = nice_ticks(ys.lo, ys.hi);
    const Ticks x_ticks = categorical ? Ticks{0, double(chart.x_categories.size()) - 1, 1}
                                      : nice_ticks(xs.lo, xs.hi, 6, chart.integer_x);
    const double x_lo = categorical ? xs.lo : x_ticks.first,
                 x_hi = categorical ? xs.hi : x_ticks.last;
    const double y_lo = chart.y_min ? *chart.y_min : y_ticks.first;
    const double y_hi = chart.y_max ? *chart.y_max : y_ticks.last;

    double y_tick_width = 0, legend_width = 0;
    for (double t : y_ticks.values())
        y_tick_width = std::max(y_tick_width,
                                text_width(cr, tick_label(t, y_ticks.step), {.size = tick_size}));
    for (const Series* s : shown)
        legend_width = std::max(legend_width, 34 + text_width(cr, s->name, legend_style));
    if (!chart.legend_title.empty())
        legend_width =
            std::max(legend_width, text_width(cr, chart.legend_title, legend_title_style));
    if (legend_width > 0) legend_width += 24;

    const Box area{box.x + y_tick_width + 38, box.y + 34,
                   box.width - y_tick_width - 38 - legend_width - 12, box.height - 34 - 50};
    auto px = [&](double x) { return area.x + (x - x_lo) / (x_hi - x_lo) * area.width; };
    auto py = [&](double y) { return area.bottom() - (y - y_lo) / (y_hi - y_lo) * area.height; };

    // Grid, then the frame.
    cairo_set_line_width(cr, 1.0);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    for (double t : y_ticks.values()) {
        if (t < y_lo - 1e-9 || t > y_hi + 1e-9) continue;
        cairo_move_to(cr, area.x, std::round(py(t)) + 0.5);
        cairo_line_to(cr, area.right(), std::round(py(t)) + 0.5);
    }
    cairo_stroke(cr);

    cairo_save(cr);
    cairo_rectangle(cr, area.x, area.y, area.width, area.height);
    cairo_clip(cr);
    for (std::size_t k = 0; k < shown.size(); ++k) {
        const Series& s = *shown[k];
        set_colour(cr, palette[k % palette.size()]);
        cairo_set_line_width(cr, 2.0);
        bool drawing = false;
        for (std::size_t i = 0; i < s.y.size(); ++i) {
            if (!std::isfinite(s.y[i])) {
                drawing = false;
                continue;
            }
            if (drawing)
                cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
            else
                cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
            drawing = true;
        }
        cairo_stroke(cr);
        cairo_set_line_width(cr, 1.5);
        for (std::size_t i = 0; i < std::min(s.low.size(), s.high.size()); ++i) {
            if (!std::isfinite(s.y[i])) continue;
            double x = px(s.x[i]);
            cairo_move_to(cr, x, py(s.low[i]));
            cairo_line_to(cr, x, py(s.high[i]));
            for (double end : {s.low[i], s.high[i]}) {
                cairo_move_to(cr, x - 4, py(end));
                cairo_line_to(cr, x + 4, py(end));
            }
        }
        cairo_stroke(cr);
        if (s.y.size() <= 60)
            for (std::size_t i = 0; i < s.y.size(); ++i)
                if (std::isfinite(s.y[i])) detail::draw_marker(cr, px(s.x[i]), py(s.y[i]));
    }
    cairo_restore(cr);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, std::round(area.x) + 0.5, std::round(area.y) + 0.5, std::round(area.width),
                    std::round(area.height));
    cairo_stroke(cr);

    // Ticks and their labels.
    for (double t : y_ticks.values()) {
        if (t < y_lo - 1e-9 || t > y_hi + 1e-9) continue;
        double y = std::round(py(t)) + 0.5;
        cairo_move_to(cr, area.x - 4, y);
        cairo_line_to(cr, area.x, y);
        draw_text(cr, tick_label(t, y_ticks.step), area.x - 7, y,
                  {.size = tick_size, .horizontal = Align::end});
    }
    for (double t : x_ticks.values()) {
        double x = std::round(px(t)) + 0.5;
        cairo_move_to(cr, x, area.bottom());
        cairo_line_to(cr, x, area.bottom() + 4);
        std::string label =
            categorical ? chart.x_categories[std::size_t(t)] : tick_label(t, x_ticks.step);
        draw_text(cr, label, x, area.bottom() + 7, {.size = tick_size, .vertical = Align::start});
    }
    cairo_stroke(cr);

    // Axis labels and title.
    draw_text(cr, chart.x_label, area.x + area.width / 2, box.bottom() - 6,
              {.size = label_size, .vertical = Align::end});
    draw_text(cr, chart.y_label, box.x + 4, area.y + area.height / 2,
              {.size = label_size, .vertical = Align::start, .angle = std::numbers::pi / 2});
    draw_text(cr, chart.title, area.x + area.width / 2, box.y + 6,
              {.size = 15, .bold = true, .vertical = Align::start});

    // Legend: a framed key beside the plotting area.
    if (legend_width > 0) {
        const double x = area.right() + 14, row = 20;
        double y = area.y + 4;
        const double rows = double(shown.size()) + (chart.legend_title.empty() ? 0 : 1);
        cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
        cairo_rectangle(cr, x + 0.5, y + 0.5, legend_width - 14, rows * row + 8);
        cairo_stroke(cr);
        y += 4;
        cairo_set_source_rgb(cr, 0, 0, 0);
        if (!chart.legend_title.empty()) {
            draw_text(cr, chart.legend_title, x + 6, y + row / 2, legend_title_style);
            y += row;
        }
        for (std::size_t k = 0; k < shown.size(); ++k, y += row) {
            set_colour(cr, palette[k % palette.size()]);
            cairo_set_line_width(cr, 2.0);
            cairo_move_to(cr, x + 6, y + row / 2);
            cairo_line_to(cr, x + 30, y + row / 2);
            cairo_stroke(cr);
            detail::draw_marker(cr, x + 18, y + row / 2);
            cairo_set_source_rgb(cr, 0, 0, 0);
            draw_text(cr, shown[k]->name, x + 36, y + row / 2, legend_style);
        }
    }
}

} // namespace ctnn::plot
