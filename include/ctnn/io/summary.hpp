// summary(): Keras's model.summary() table, from the network's type alone.
#pragma once

#include <algorithm>
#include <boost/mp11/algorithm.hpp>
#include <cctype>
#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/core/parameters.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

namespace detail {

// Keras's layer names: "LeakyReLU" -> "leaky_re_lu", numbered on repeats.
inline std::string snake_case(std::string_view type) {
    std::string name;
    for (std::size_t i = 0; i < type.size(); ++i) {
        char c = type[i];
        bool upper = std::isupper(static_cast<unsigned char>(c));
        bool after_lower = i > 0 && std::islower(static_cast<unsigned char>(type[i - 1]));
        bool starts_word = i > 0 && i + 1 < type.size() &&
                           std::isupper(static_cast<unsigned char>(type[i - 1])) &&
                           std::islower(static_cast<unsigned char>(type[i + 1]));
        if (upper && (after_lower || starts_word)) name += '_';
        name += char(std::tolower(static_cast<unsigned char>(c)));
    }
    return name;
}

inline std::string with_thousands(std::size_t value) {
    std::string digits = std::to_string(value), text;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
        text += digits[i];
    }
    return text;
}

struct SummaryRow {
    std::string layer, shape, params;
};

// One row per bound layer of List and, indented below a layer that holds
// others (Branch, Shared, Parallel, Residual), one per layer it holds.
template <class List>
void summary_rows(std::vector<SummaryRow>& rows, std::size_t depth, std::map<std::string, int>& seen) {
    boost::mp11::mp_for_each<List>([&](auto bound) {
        using B = decltype(bound);
        std::string type(B::layer::type_name);
        std::string name = snake_case(type);
        int repeat = seen[name]++;
        if (repeat > 0) name += "_" + std::to_string(repeat);
        const std::string indent = depth == 0 ? " " : " " + std::string(2 * depth, ' ') + "| ";
        rows.push_back({indent + name + " (" + type + ")", batch_shape_string(typename B::output_shape{}),
                        with_thousands(B::param_count + B::state_count)});
        if constexpr (B::valid && composite<typename B::layer, typename B::input_shape>)
            summary_rows<typename B::layer::template sublayers<typename B::input_shape>>(rows, depth + 1, seen);
    });
}

} // namespace detail

// The table: the layers in order, a layer that holds others followed by
// them, indented (the branches of a network with several inputs, the body
// of a residual block); a network with several inputs starts with them.
template <class Net>
void summary(const Net&, std::ostream& out) {
    std::vector<detail::SummaryRow> rows;
    if constexpr (is_shapes<typename Net::input_shape>)
        rows.push_back({" inputs (Inputs)", batch_shape_string(typename Net::input_shape{}), "0"});
    std::map<std::string, int> seen;
    detail::summary_rows<typename Net::layers>(rows, 0, seen);
    std::size_t name_width = 44, shape_width = 24;
    for (const auto& r : rows) {
        name_width = std::max(name_width, r.layer.size() + 2);
        shape_width = std::max(shape_width, r.shape.size() + 2);
    }
    const std::string rule(name_width + shape_width + 12, '_');
    const std::string double_rule(rule.size(), '=');
    auto print = [&](const std::string& a, const std::string& b, const std::string& c) {
        out << a << std::string(name_width - a.size(), ' ') << b << std::string(shape_width - b.size(), ' ') << c
            << '\n';
    };
    out << "Model: \"" << (is_shapes<typename Net::input_shape> ? "functional" : "sequential") << "\"\n"
        << rule << '\n';
    print(" Layer (type)", "Output Shape", "Param #");
    out << double_rule << '\n';
    for (const auto& r : rows) print(r.layer, r.shape, r.params);
    // State (BatchNorm's running statistics) is what Keras counts as
    // non-trainable parameters.
    constexpr std::size_t non_trainable = Net::state_count;
    out << double_rule << '\n'
        << "Total params: " << detail::with_thousands(Net::param_count + non_trainable) << '\n'
        << "Trainable params: " << detail::with_thousands(Net::param_count) << '\n'
        << "Non-trainable params: " << detail::with_thousands(non_trainable) << '\n'
        << rule << '\n';
}

} // namespace ctnn
