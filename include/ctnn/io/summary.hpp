// summary(): Keras's model.summary() table, from the network's type alone.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include "ctnn/core/shape.hpp"

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

} // namespace detail

template <class Net>
void summary(const Net&, std::ostream& out) {
    constexpr int name_width = 44, shape_width = 24;
    const std::string rule(name_width + shape_width + 12, '_');
    const std::string double_rule(rule.size(), '=');
    char line[256];
    auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
        std::snprintf(line, sizeof line, "%-*s %-*s %s\n", name_width - 1, a.c_str(),
                      shape_width - 1, b.c_str(), c.c_str());
        out << line;
    };
    out << "Model: \"sequential\"\n" << rule << '\n';
    row(" Layer (type)", "Output Shape", "Param #");
    out << double_rule << '\n';
    std::map<std::string, int> seen;
    boost::mp11::mp_for_each<typename Net::layers>([&](auto bound) {
        using B = decltype(bound);
        std::string type(B::layer::type_name);
        std::string name = detail::snake_case(type);
        int repeat = seen[name]++;
        if (repeat > 0) name += "_" + std::to_string(repeat);
        row(" " + name + " (" + type + ")", batch_shape_string(typename B::output_shape{}),
            detail::with_thousands(B::param_count + B::state_count));
    });
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
