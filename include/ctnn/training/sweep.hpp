// sweep(): runs a grid of hyper-parameters, each point several times with
// its own seed, and reports every metric's mean and spread as a table, a CSV
// file and (plot/sweep.hpp) a chart.
//
//   auto result = ctnn::sweep({{"learning rate", {0.01, 0.1}}, {"hidden", {50, 100}}},
//                             [&](const ctnn::SweepPoint& p, std::uint64_t seed) {
//                                 return train_and_score(p["learning rate"], p["hidden"], seed);
//                             },
//                             {.repeats = 3, .seed = 42, .metric = "accuracy"});
//   result.print(std::cout);
//   result.write_csv("sweep.csv");
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctnn {

// One hyper-parameter and the values the sweep gives it.
struct SweepAxis {
    std::string name;
    std::vector<double> values;
};

// A point of the grid: a value for every axis, looked up by name.
struct SweepPoint {
    std::vector<std::string> names;
    std::vector<double> values;

    double operator[](std::string_view axis) const {
        for (std::size_t a = 0; a < names.size(); ++a)
            if (names[a] == axis) return values[a];
        throw std::invalid_argument("ctnn: the sweep has no axis \"" + std::string(axis) + "\"");
    }
    // "learning rate=0.1, hidden=100"
    std::string label() const {
        std::string text;
        char value[32];
        for (std::size_t a = 0; a < names.size(); ++a) {
            std::snprintf(value, sizeof value, "%g", values[a]);
            text += (a ? ", " : "") + names[a] + "=" + value;
        }
        return text;
    }
};

// What a run reports: named figures, in the same order on every run.
struct Metric {
    std::string name;
    double value = 0.0;
};
using Metrics = std::vector<Metric>;

// Mean and spread of one metric over the repeats; std_dev is the sample
// standard deviation (divides by n - 1), 0 for a single run.
struct Spread {
    double mean = 0.0, std_dev = 0.0, min = 0.0, max = 0.0;
};

inline Spread spread_of(const std::vector<double>& runs) {
    if (runs.empty()) throw std::invalid_argument("ctnn: spread_of() needs at least one value");
    Spread s{0.0, 0.0, runs.front(), runs.front()};
    for (double v : runs) {
        s.mean += v;
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
    }
    s.mean /= double(runs.size());
    if (runs.size() > 1) {
        double squares = 0.0;
        for (double v : runs) squares += (v - s.mean) * (v - s.mean);
        s.std_dev = std::sqrt(squares / double(runs.size() - 1));
    }
    return s;
}

// One grid point's runs: runs[m][r] is metric m of repeat r.
struct SweepCell {
    SweepPoint point;
    std::vector<std::vector<double>> runs;
    std::vector<Spread> spread;  // per metric
};

namespace detail {

inline std::string formatted(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

inline std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

// Characters, not bytes, of UTF-8 text ("±" is two bytes).
inline std::size_t display_width(const std::string& text) {
    return std::size_t(
        std::ranges::count_if(text, [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

// Rows of cells, each column padded to its widest entry.
inline void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (width.size() <= c) width.push_back(0);
            width[c] = std::max(width[c], display_width(row[c]));
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - display_width(row[c]) + 2, ' ');
        }
        out << line << '\n';
    }
}

} // namespace detail

struct SweepResult {
    std::vector<SweepAxis> axes{};
    std::vector<std::string> metrics{};
    std::size_t repeats = 0;
    std::vector<SweepCell> cells{};  // grid order: the first axis varies slowest
    double seconds = 0.0;            // wall time of the whole sweep

    std::size_t axis_index(std::string_view name) const {
        for (std::size_t a = 0; a < axes.size(); ++a)
            if (axes[a].name == name) return a;
        throw std::invalid_argument("ctnn: the sweep has no axis \"" + std::string(name) + "\"");
    }
    std::size_t metric_index(std::string_view name) const {
        for (std::size_t m = 0; m < metrics.size(); ++m)
            if (metrics[m] == name) return m;
        throw std::invalid_argument("ctnn: the sweep has no metric \"" + std::string(name) + "\"");
    }

    // The cell whose point has these values, in axis order.
    const SweepCell& at(const std::vector<double>& values) const {
        for (const SweepCell& cell : cells)
            if (cell.point.values == values) return cell;
        throw std::invalid_argument("ctnn: the sweep has no point with these values");
    }

    // The cell with the highest (or lowest) mean of `metric`.
    const SweepCell& best(std::string_view metric, bool highest = true) const {
        const std::size_t m = metric_index(metric);
        auto better = [&](const SweepCell& a, const SweepCell& b) {
            return highest ? a.spread[m].mean < b.spread[m].mean
                           : a.spread[m].mean > b.spread[m].mean;
        };
        return *std::ranges::max_element(cells, better);
    }

    // One row per grid point: the axes, then each metric's mean, standard
    // deviation, minimum and maximum over the repeats.
    void print(std::ostream& out) const {
        std::vector<std::vector<std::string>> rows(1);
        for (const SweepAxis& axis : axes) rows[0].push_back(axis.name);
        for (const std::string& m : metrics)
            for (const char* what : {" mean", " std", " min", " max"}) rows[0].push_back(m + what);
        for (const SweepCell& cell : cells) {
            std::vector<std::string>& row = rows.emplace_back();
            for (double v : cell.point.values) row.push_back(detail::formatted("%g", v));
            for (const Spread& s : cell.spread)
                for (double v : {s.mean, s.std_dev, s.min, s.max})
                    row.push_back(detail::formatted("%.4f", v));
        }
        detail::print_columns(out, rows);
    }

    // A two-axis sweep as a matrix: `rows` down, `columns` across, each cell
    // "mean ± std" of `metric`.
    void print_table(std::ostream& out, std::string_view metric, std::string_view rows,
                     std::string_view columns) const {
        const std::size_t m = metric_index(metric), r = axis_index(rows), c = axis_index(columns);
        if (axes.size() != 2 || r == c)
            throw std::invalid_argument(
                "ctnn: print_table needs a sweep over exactly the two axes it is given");
        std::vector<std::vector<std::string>> table(1);
        table[0].push_back(std::string(rows) + " \\ " + std::string(columns));
        for (double v : axes[c].values) table[0].push_back(detail::formatted("%g", v));
        for (double rv : axes[r].values) {
            std::vector<std::string>& row = table.emplace_back();
            row.push_back(detail::formatted("%g", rv));
            for (double cv : axes[c].values) {
                std::vector<double> at_point(2);
                at_point[r] = rv;
                at_point[c] = cv;
                const Spread& s = at(at_point).spread[m];
                row.push_back(detail::formatted("%.4f", s.mean) + " ± " +
                              detail::formatted("%.4f", s.std_dev));
            }
        }
        out << metric << " (mean ± std over " << repeats << (repeats == 1 ? " run)\n" : " runs)\n");
        detail::print_columns(out, table);
    }

    // CSV with a header row: the axes, "repeats", then <metric>_mean,
    // <metric>_std, <metric>_min, <metric>_max for each metric. Written to a
    // temporary file and renamed, so a crash leaves no half file.
    void write_csv(const std::filesystem::path& file) const {
        std::filesystem::path temporary = file;
        temporary += ".tmp";
        {
            std::ofstream out(temporary);
            // append(), not "literal" + string: GCC 12 warns falsely on that (-Wrestrict).
            std::string header;
            for (const SweepAxis& axis : axes)
                header.append(detail::csv_field(axis.name)).append(",");
            header += "repeats";
            for (const std::string& m : metrics)
                for (const char* what : {"_mean", "_std", "_min", "_max"})
                    header.append(",").append(detail::csv_field(m + what));
            out << header << '\n';
            for (const SweepCell& cell : cells) {
                for (double v : cell.point.values) out << detail::formatted("%.9g", v) << ',';
                out << repeats;
                for (const Spread& s : cell.spread)
                    for (double v : {s.mean, s.std_dev, s.min, s.max})
                        out << ',' << detail::formatted("%.9g", v);
                out << '\n';
            }
            if (!out.flush())
                throw std::runtime_error("ctnn: cannot write the sweep to " + file.string());
        }
        std::filesystem::rename(temporary, file);
    }
};

struct SweepOptions {
    std::size_t repeats = 3;
    std::uint64_t seed = 0;          // repeat r of every point runs with seed + r
    std::string metric = "metric";   // the name of a run's result when it is a plain number
    std::ostream* out = &std::cout;  // a line per run; nullptr for none
};

// Calls run(point, seed) `repeats` times for every point of the grid the
// axes span; run returns a number or Metrics.
template <class Run>
requires std::invocable<Run&, const SweepPoint&, std::uint64_t> SweepResult
sweep(std::vector<SweepAxis> axes, Run&& run, const SweepOptions& options = {}) {
    using Returned = std::invoke_result_t<Run&, const SweepPoint&, std::uint64_t>;
    static_assert(std::is_arithmetic_v<Returned> || std::is_same_v<Returned, Metrics>,
                  "ctnn: a sweep's run returns a number or ctnn::Metrics");
    if (axes.empty()) throw std::invalid_argument("ctnn: a sweep needs at least one axis");
    if (options.repeats == 0)
        throw std::invalid_argument("ctnn: a sweep needs at least one repeat");
    for (std::size_t a = 0; a < axes.size(); ++a) {
        if (axes[a].values.empty())
            throw std::invalid_argument("ctnn: the sweep's axis \"" + axes[a].name +
                                        "\" has no values");
        for (std::size_t b = 0; b < a; ++b)
            if (axes[a].name == axes[b].name)
                throw std::invalid_argument("ctnn: the sweep has two axes named \"" + axes[a].name +
                                            "\"");
    }

    SweepResult result{.axes = axes, .repeats = options.repeats};
    std::size_t points = 1;
    for (const SweepAxis& axis : axes) points *= axis.values.size();
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::size_t> digit(axes.size(), 0);  // a mixed-radix counter over the grid
    for (std::size_t p = 0; p < points; ++p) {
        SweepCell cell;
        for (std::size_t a = 0; a < axes.size(); ++a) {
            cell.point.names.push_back(axes[a].name);
            cell.point.values.push_back(axes[a].values[digit[a]]);
        }
        for (std::size_t r = 0; r < options.repeats; ++r) {
            const std::uint64_t seed = options.seed + r;
            const auto run_start = std::chrono::steady_clock::now();
            Metrics metrics;
            if constexpr (std::is_arithmetic_v<Returned>)
                metrics = {
                    {options.metric, double(std::invoke(run, std::as_const(cell.point), seed))}};
            else
                metrics = std::invoke(run, std::as_const(cell.point), seed);

            if (result.metrics.empty())
                for (const Metric& m : metrics) result.metrics.push_back(m.name);
            bool same = metrics.size() == result.metrics.size() && !metrics.empty();
            for (std::size_t m = 0; same && m < metrics.size(); ++m)
                same = metrics[m].name == result.metrics[m];
            if (!same)
                throw std::invalid_argument(
                    "ctnn: every run of a sweep must report the same metrics, in the same order "
                    "(at " +
                    cell.point.label() + ")");
            cell.runs.resize(metrics.size());
            for (std::size_t m = 0; m < metrics.size(); ++m)
                cell.runs[m].push_back(metrics[m].value);

            if (options.out) {
                *options.out << "sweep " << p + 1 << '/' << points << " (" << cell.point.label()
                             << ") repeat " << r + 1 << '/' << options.repeats << ", seed " << seed
                             << ':';
                for (const Metric& m : metrics)
                    *options.out << ' ' << m.name << ' ' << detail::formatted("%.4f", m.value);
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start)
                        .count();
                *options.out << " (" << detail::formatted("%.1f", seconds) << " s)\n" << std::flush;
            }
        }
        for (const std::vector<double>& runs : cell.runs) cell.spread.push_back(spread_of(runs));
        result.cells.push_back(std::move(cell));
        for (std::size_t a = axes.size(); a-- > 0;) {
            if (++digit[a] < axes[a].values.size()) break;
            digit[a] = 0;
        }
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace ctnn
