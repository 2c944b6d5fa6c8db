// A string literal as a template argument: net.parameter<1, "kernel">().
#pragma once

#include <cstddef>
#include <string_view>

namespace ctnn {

template <std::size_t N>
struct fixed_string {
    char text[N]{};

    constexpr fixed_string(const char (&literal)[N]) {
        for (std::size_t i = 0; i < N; ++i) text[i] = literal[i];
    }
    constexpr std::string_view view() const { return {text, N - 1}; }
};

} // namespace ctnn
