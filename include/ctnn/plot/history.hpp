// plot::history(): fit()'s History as two panels, loss and accuracy per
// epoch, training against validation.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "ctnn/plot/canvas.hpp"
#include "ctnn/plot/figure.hpp"
#include "ctnn/training/history.hpp"

namespace ctnn::plot {

struct HistoryOptions {
    std::string title = "Training history";
    int width = 1000, height = 420;
};

namespace detail {

// Panel `loss` or accuracy (in percent) of the history, as a chart.
inline LineChart history_chart(const History& history, bool loss) {
    LineChart chart{.title = loss ? "Loss per epoch" : "Accuracy per epoch",
                    .x_label = "epoch",
                    .y_label = loss ? "loss" : "accuracy (%)",
                    .series = {{.name = "training"}, {.name = "validation"}},
                    .integer_x = true};
    for (std::size_t e = 0; e < history.epochs.size(); ++e) {
        const EpochRecord& r = history.epochs[e];
        for (Series& s : chart.series) s.x.push_back(double(e + 1));
        chart.series[0].y.push_back(loss ? r.loss : 100.0 * r.accuracy);
        chart.series[1].y.push_back(loss ? r.val_loss : 100.0 * r.val_accuracy);
    }
    return chart;
}

} // namespace detail

// Writes the plot to `file` (.png or .svg). A history without validation
// figures shows the training curves alone.
inline void history(const History& history, const std::filesystem::path& file,
                    const HistoryOptions& options = {}) {
    if (history.epochs.empty())
        throw std::invalid_argument("ctnn: cannot plot to " + file.string() +
                                    ": the history has no epochs");
    const LineChart loss = detail::history_chart(history, true);
    const LineChart accuracy = detail::history_chart(history, false);
    const Caption caption{options.title, describe(loss) + " " + describe(accuracy)};
    write_figure(file, options.width, options.height, caption, [&](cairo_t* cr) {
        const double top = 36, half = options.width / 2.0;
        cairo_set_source_rgb(cr, 0, 0, 0);
        draw_text(cr, options.title, half, 8, {.size = 17, .bold = true, .vertical = Align::start});
        draw(cr, {8, top, half - 12, options.height - top - 4}, loss);
        draw(cr, {half + 4, top, half - 12, options.height - top - 4}, accuracy);
    });
}

} // namespace ctnn::plot
