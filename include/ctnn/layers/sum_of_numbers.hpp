// SumOfNumbers: the distribution of a + b for two numbers that a network
// reads digit by digit. Its inputs are two tensors Shape<D, 10>, each the
// logits of a number's D digits (most significant first: a reader ending in
// Dense<10 * D>, Reshape<D, 10>), the digits taken as independent; its
// output, Shape<2 * 10^D - 1>, is log P(a + b = s) for every sum s, the
// logits of a distribution: follow it with Softmax, and cross-entropy on the
// sum trains the reader through it.
//
// It is seed 000's end-to-end network with the addition written in: a
// network that only sees each pair's sum learns to read the digits it adds,
// every wrong sum pointing at the digits that explain the right one. Nothing
// in it is trained, and the reader is never told a digit.
//
// The sum of digits j of both numbers, t_j = a_j + b_j in 0..18, has
// log T_j(t) = logsumexp over a_j + b_j = t of log p(a_j) + log p(b_j); the
// sum's digit j is t_j plus the carry into it, less 10 times the carry out,
// so log P(s) is a logsumexp over the D carries of the sum of log T_j. All of
// it is computed in logarithms: a confidently wrong reading still gets the
// gradient that corrects it (probabilities would underflow to 0 first).
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/config.hpp"
#include "ctnn/core/fast_math.hpp"
#include "ctnn/core/layer.hpp"
#include "ctnn/core/shapes.hpp"

namespace ctnn {

namespace detail {

// A sum of two D-digit numbers in base 10: its digit j (j = 0 the ones) is
// t_j + c_j - 10 c_{j+1}, where t_j in 0..18 is the sum of the numbers'
// digits j and c_j the carry into digit j (c_0 = 0, c_D = the sum's digit D).
template <std::size_t D>
struct DigitSums {
    static constexpr std::size_t base = 10, digit_sums = 2 * base - 1, numbers = [] {
        std::size_t n = 1;
        for (std::size_t j = 0; j < D; ++j) n *= base;
        return n;
    }();
    // The carries into digits 1..D-1: the sum's top digit is not free.
    static constexpr std::size_t sums = 2 * numbers - 1, inner_carries = std::size_t(1) << (D - 1);

    // The digit sums t_0..t_{D-1} that give sum s with the carries into
    // digits 1..D-1 the bits of `carries` (bit j the carry out of digit j);
    // false when one is outside 0..18.
    CTNN_HOST_DEVICE static bool digit_sums_of(std::size_t s, std::size_t carries, std::size_t* t) {
        std::size_t carry_in = 0;
        for (std::size_t j = 0; j < D; ++j) {
            const std::size_t digit = s % base;
            s /= base;
            const std::size_t carry_out = j + 1 < D ? (carries >> j) & 1 : s;
            const long value = long(digit) + long(base * carry_out) - long(carry_in);
            if (value < 0 || value >= long(digit_sums)) return false;
            t[j] = std::size_t(value);
            carry_in = carry_out;
        }
        return true;
    }
};

// log(sum of exp(v)) over `count` values; -inf for none.
CTNN_HOST_DEVICE inline float log_sum_exp(const float* v, std::size_t count) {
    float max = -INFINITY;
    for (std::size_t i = 0; i < count; ++i) max = v[i] > max ? v[i] : max;
    if (max == -INFINITY) return max;
    float total = 0.0f;
    for (std::size_t i = 0; i < count; ++i) total += fast::exp(v[i] - max);
    return max + std::log(total);
}

// log p of each digit: the logits of each (sample, number, digit position)
// less their log-sum-exp.
struct LogDigitProbabilities {
    const float* logits;
    float* log_p;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        const float* in = logits + i * 10;
        const float norm = log_sum_exp(in, 10);
        for (std::size_t d = 0; d < 10; ++d) log_p[i * 10 + d] = in[d] - norm;
    }
};

// log T_j(t) for each (sample, digit position j, t): log_p holds per sample
// number a's D rows of 10, then number b's; position j counts from the ones,
// rows from the most significant.
template <std::size_t D>
struct LogDigitSums {
    const float* log_p;
    float* log_t;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        constexpr std::size_t width = DigitSums<D>::digit_sums;
        const std::size_t sample = i / (D * width), j = i / width % D, t = i % width;
        const float* a = log_p + (sample * 2 * D + (D - 1 - j)) * 10;
        const float* b = a + D * 10;
        float terms[10];
        std::size_t count = 0;
        for (std::size_t d = t > 9 ? t - 9 : 0; d <= t && d < 10; ++d) terms[count++] = a[d] + b[t - d];
        log_t[i] = log_sum_exp(terms, count);
    }
};

// log P(s) for each (sample, s).
template <std::size_t D>
struct LogSums {
    const float* log_t;
    float* y;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        using Sums = DigitSums<D>;
        const std::size_t sample = i / Sums::sums, s = i % Sums::sums;
        const float* lt = log_t + sample * D * Sums::digit_sums;
        float paths[Sums::inner_carries];
        std::size_t count = 0;
        for (std::size_t c = 0; c < Sums::inner_carries; ++c) {
            std::size_t t[D];
            if (!Sums::digit_sums_of(s, c, t)) continue;
            float total = 0.0f;
            for (std::size_t j = 0; j < D; ++j) total += lt[j * Sums::digit_sums + t[j]];
            paths[count++] = total;
        }
        y[i] = log_sum_exp(paths, count);
    }
};

// d(loss)/d(log T_j(t)) for each (sample, j, t): the paths through t (a
// sum s and carries), each its share of P(s) times d(loss)/d(log P(s)).
// They are enumerated from t: the carries and the sum's other digits fix
// the other digit sums and s.
template <std::size_t D>
struct LogDigitSumGradient {
    const float* log_t;
    const float* y;
    const float* dy;
    float* d_log_t;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        using Sums = DigitSums<D>;
        constexpr std::size_t others = Sums::numbers / Sums::base;  // the other digits' values
        const std::size_t sample = i / (D * Sums::digit_sums), j = i / Sums::digit_sums % D,
                          t_j = i % Sums::digit_sums;
        const float* lt = log_t + sample * D * Sums::digit_sums;
        const float* log_p_sum = y + sample * Sums::sums;
        const float* g = dy + sample * Sums::sums;
        float total = 0.0f;
        // carries: bit m is the carry out of digit m, bit D - 1 the sum's top digit.
        for (std::size_t carries = 0; carries < (std::size_t(1) << D); ++carries) {
            for (std::size_t rest = 0; rest < others; ++rest) {
                std::size_t s = 0, scale = 1, digits = rest;
                float path = 0.0f;
                bool valid = true;
                for (std::size_t m = 0; m < D && valid; ++m, scale *= Sums::base) {
                    const long carry_in = m ? long((carries >> (m - 1)) & 1) : 0;
                    const long carry_out = long((carries >> m) & 1);
                    long digit, t;
                    if (m == j) {
                        t = long(t_j);
                        digit = t + carry_in - long(Sums::base) * carry_out;
                        valid = digit >= 0 && digit < long(Sums::base);
                    } else {
                        digit = long(digits % Sums::base);
                        digits /= Sums::base;
                        t = digit - carry_in + long(Sums::base) * carry_out;
                        valid = t >= 0 && t < long(Sums::digit_sums);
                    }
                    if (valid) {
                        s += std::size_t(digit) * scale;
                        path += lt[m * Sums::digit_sums + std::size_t(t)];
                    }
                }
                if (!valid) continue;
                s += ((carries >> (D - 1)) & 1) * scale;
                if (s < Sums::sums && g[s] != 0.0f) total += g[s] * fast::exp(path - log_p_sum[s]);
            }
        }
        d_log_t[i] = total;
    }
};

// d(loss)/d(logits) for each (sample, number, digit row): through log T
// (the share of each split of t between the two digits), then through the
// log-softmax.
template <std::size_t D>
struct DigitLogitGradient {
    const float* log_p;
    const float* log_t;
    const float* d_log_t;
    float* dx;
    CTNN_HOST_DEVICE void operator()(std::size_t i) const {
        constexpr std::size_t width = DigitSums<D>::digit_sums;
        const std::size_t sample = i / (2 * D), number = i / D % 2, row = i % D, j = D - 1 - row;
        const float* own = log_p + i * 10;
        const float* other = log_p + (sample * 2 + 1 - number) * D * 10 + row * 10;
        const float* lt = log_t + (sample * D + j) * width;
        const float* dlt = d_log_t + (sample * D + j) * width;
        float d_log_p[10], total = 0.0f;
        for (std::size_t d = 0; d < 10; ++d) {
            float sum = 0.0f;
            for (std::size_t e = 0; e < 10; ++e)
                if (dlt[d + e] != 0.0f) sum += dlt[d + e] * fast::exp(own[d] + other[e] - lt[d + e]);
            d_log_p[d] = sum;
            total += sum;
        }
        // log p = x - logsumexp(x): dx = d(log p) - p * sum(d(log p)).
        for (std::size_t d = 0; d < 10; ++d) dx[i * 10 + d] = d_log_p[d] - fast::exp(own[d]) * total;
    }
};

// Two tensors Shape<D, 10>: D digits' logits each.
template <class InputShape>
struct TwoNumbers {
    static constexpr bool valid = false;
    static constexpr std::size_t digits = 1;
};
template <std::size_t D>
struct TwoNumbers<Shapes<Shape<D, 10>, Shape<D, 10>>> {
    static constexpr bool valid = D >= 1 && D <= 4;
    static constexpr std::size_t digits = valid ? D : 1;
};

} // namespace detail

template <std::size_t Digits, class Backend>
class SumOfNumbersImpl;

struct SumOfNumbers {
    static constexpr std::string_view type_name = "SumOfNumbers";
    static constexpr bool takes_several_inputs = true;

    template <std::size_t LayerIndex, class InputShape>
    static consteval auto output_shape() {
        static_assert(detail::TwoNumbers<InputShape>::valid,
                      "ctnn: SumOfNumbers adds two numbers of 1 to 4 digits, each read as Shape<digits, 10> "
                      "(the digits' logits, most significant first: Dense<10 * digits>, Reshape<digits, 10>)");
        return Shape<detail::DigitSums<detail::TwoNumbers<InputShape>::digits>::sums>{};
    }
    template <class InputShape, class Backend>
    using impl = SumOfNumbersImpl<detail::TwoNumbers<InputShape>::digits, Backend>;
};

template <std::size_t Digits, class Backend>
class SumOfNumbersImpl {
    using Sums = detail::DigitSums<Digits>;
    static constexpr std::size_t digit_rows = 2 * Digits, digit_sums = Digits * Sums::digit_sums;

public:
    explicit SumOfNumbersImpl(const SumOfNumbers&) {}

    // The digits' log-probabilities and log T stay from forward for backward.
    void reserve(const Backend&, std::size_t max_batch) {
        log_p_.resize(max_batch * digit_rows * 10);
        log_t_.resize(max_batch * digit_sums);
        d_log_t_.resize(max_batch * digit_sums);
    }

    const float* forward(const LayerCall<Backend>& call, const float* x, float* y) {
        const std::size_t batch = call.batch;
        call.backend.for_each(batch * digit_rows, detail::LogDigitProbabilities{x, log_p_.data()}, 10);
        call.backend.for_each(batch * digit_sums, detail::LogDigitSums<Digits>{log_p_.data(), log_t_.data()}, 10);
        call.backend.for_each(batch * Sums::sums, detail::LogSums<Digits>{log_t_.data(), y}, 4 * Sums::inner_carries);
        return y;
    }

    float* backward(const LayerCall<Backend>& call, const float*, const float* y, float* dy, float* dx) {
        if (!dx) return nullptr;
        const std::size_t batch = call.batch;
        call.backend.for_each(batch * digit_sums,
                              detail::LogDigitSumGradient<Digits>{log_t_.data(), y, dy, d_log_t_.data()},
                              2 * Sums::numbers);
        call.backend.for_each(batch * digit_rows,
                              detail::DigitLogitGradient<Digits>{log_p_.data(), log_t_.data(), d_log_t_.data(), dx},
                              100);
        return dx;
    }

private:
    typename Backend::template buffer<float> log_p_, log_t_, d_log_t_;
};

} // namespace ctnn
