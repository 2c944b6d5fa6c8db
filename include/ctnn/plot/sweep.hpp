// plot::sweep(): a sweep's metric against one axis, one line per value of a
// second axis (accuracy against hidden neurons, one line per learning rate),
// with bars from the smallest to the largest repeat.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/plot/canvas.hpp"
#include "ctnn/plot/figure.hpp"
#include "ctnn/training/sweep.hpp"

namespace ctnn::plot {

struct SweepOptions {
    std::string metric{};   // the sweep's metric to show
    std::string x{};        // the axis along x; its values sit equally spaced
    std::string series{};   // one line per value of this axis; empty for one line
    std::string title{};    // empty: "<metric> by <x> and <series>"
    std::string y_label{};  // empty: the metric's name
    double y_scale = 1.0;   // 100 shows a fraction in percent
    int width = 820, height = 500;
};

namespace detail {

inline LineChart sweep_chart(const SweepResult& result, const SweepOptions& options) {
    const std::size_t m = result.metric_index(options.metric);
    const std::size_t x = result.axis_index(options.x);
    const bool grouped = !options.series.empty();
    const std::size_t s = grouped ? result.axis_index(options.series) : x;
    if (result.axes.size() != (grouped ? 2u : 1u) || (grouped && s == x))
        throw std::invalid_argument(
            "ctnn: plot::sweep shows a sweep over its x axis and, if given, "
            "one series axis; this sweep has " +
            std::to_string(result.axes.size()) + " axes");
    LineChart chart;
    chart.title = options.title.empty() ? options.metric + " by " + options.x +
                                              (grouped ? " and " + options.series : "")
                                        : options.title;
    chart.x_label = options.x;
    chart.y_label = options.y_label.empty() ? options.metric : options.y_label;
    chart.legend_title = grouped ? options.series : "";
    for (double v : result.axes[x].values)
        chart.x_categories.push_back(ctnn::detail::formatted("%g", v));

    const std::vector<double> series_values =
        grouped ? result.axes[s].values : std::vector<double>{0.0};
    for (double series_value : series_values) {
        Series line{.name = grouped ? ctnn::detail::formatted("%g", series_value) : options.metric};
        for (std::size_t i = 0; i < result.axes[x].values.size(); ++i) {
            std::vector<double> point(result.axes.size());
            point[x] = result.axes[x].values[i];
            if (grouped) point[s] = series_value;
            const Spread& spread = result.at(point).spread[m];
            line.x.push_back(double(i));
            line.y.push_back(spread.mean * options.y_scale);
            line.low.push_back(spread.min * options.y_scale);
            line.high.push_back(spread.max * options.y_scale);
        }
        chart.series.push_back(std::move(line));
    }
    return chart;
}

} // namespace detail

// Writes the chart to `file` (.png or .svg): the mean over the repeats, and
// a bar from the smallest to the largest run at every point.
inline void sweep(const SweepResult& result, const std::filesystem::path& file,
                  const SweepOptions& options) {
    const LineChart chart = detail::sweep_chart(result, options);
    const std::string note =
        "Points: mean of " + std::to_string(result.repeats) +
        (result.repeats == 1 ? " run" : " runs; bars from the lowest to the highest");
    const Caption caption{chart.title, describe(chart) + " " + note + "."};
    write_figure(file, options.width, options.height, caption, [&](cairo_t* cr) {
        draw(cr, {8, 8, options.width - 16.0, options.height - 30.0}, chart);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        draw_text(cr, note, options.width / 2.0, options.height - 6.0,
                  {.size = 11, .vertical = Align::end});
    });
}

} // namespace ctnn::plot
