// The forward pass of a stride-1 3x3 or 5x5 convolution as Winograd's
// F(2x2, 3x3) or F(2x2, 5x5): each 2x2 block of outputs (a tile) from the
// A x A block of the padded input around it (A = 4 or 6) with A^2 products
// per channel and filter instead of 4 R^2 (R the kernel's size): 2.25 or
// 2.78 times fewer.
//
// With d a tile's A x A input and g an R x R kernel, the tile's outputs are
//   A^T [sum over channels (G g G^T) .* (B^T d B)] A,
// the matrices those of Lavin and Gray's "Fast Algorithms for Convolutional
// Neural Networks" for F(2, 3), and for F(2, 5) those built on the points
// 0, 1, -1, 2, -2 and infinity (Transform<5> below; checked exactly with
// fractions, and against the definition by the tests). So the A^2
// positions xi of the transformed blocks are A^2 independent matrix
// products, M[xi] (filters x tiles) = U[xi] (filters x channels) * V[xi]
// (channels x tiles), each one GEMM. The threads transform the kernel
// together; then each transforms a chunk of its samples' tiles, runs the
// GEMMs on one thread, and transforms the products back into output planes
// for the sink. The transforms run 8 or 16 tiles at a time in vectors, their
// coefficients fixed at compile time (a zero costs nothing, a one an
// addition): the padded input is kept as its even and its odd columns, so
// that each column of a row of tiles is a contiguous run.
//
// Outputs past an odd OutHeight or OutWidth are computed and dropped. The
// results differ from the direct sum by rounding only (the tests compare
// with the definition in double).
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/backend/cpu/direct_convolution.hpp"
#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/core/backend.hpp"

namespace ctnn::backend::cpu::winograd {

// The matrices of F(2, R): B^T (A x A), G (A x R), A^T (2 x A), A = R + 1.
template <std::size_t R>
struct Transform;

template <>
struct Transform<3> {
    static constexpr float input[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    static constexpr float kernel[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    static constexpr float output[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

template <>
struct Transform<5> {
    static constexpr float input[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                          {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static constexpr float kernel[6][5] = {{1.0f / 4, 0, 0, 0, 0},
                                           {-1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6},
                                           {-1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6},
                                           {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
                                           {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3},
                                           {0, 0, 0, 0, 1}};
    static constexpr float output[2][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}};
};

#if CTNN_CPU_DIRECT_KERNELS
// out[i] = sum over k of M[i][k] * in[k * stride], the coefficients known at
// compile time: zeros skipped, ones added.
template <const auto& M, std::size_t I, std::size_t K, class Value>
inline Value term(Value sum, Value x) {
    constexpr float c = M[I][K];
    if constexpr (c == 0.0f) return sum;
    else if constexpr (c == 1.0f) return sum + x;
    else if constexpr (c == -1.0f) return sum - x;
    else return direct::multiply_add(x, c, sum);
}
template <const auto& M, std::size_t I, class Value, std::size_t... K>
inline Value row_times(const Value* in, std::size_t stride, std::index_sequence<K...>) {
    Value sum = direct::zero();
    ((sum = term<M, I, K>(sum, in[K * stride])), ...);
    return sum;
}
template <const auto& M, class Value>
inline void multiply(const Value* in, std::size_t in_stride, Value* out, std::size_t out_stride) {
    using Matrix = std::remove_cvref_t<decltype(M)>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((out[I * out_stride] =
              row_times<M, I>(in, in_stride, std::make_index_sequence<std::extent_v<Matrix, 1>>{})),
         ...);
    }(std::make_index_sequence<std::extent_v<Matrix, 0>>{});
}
#endif

template <class G>
struct Winograd {
    static constexpr std::size_t r = G::kernel_height, alpha = r + 1, positions = alpha * alpha;
    static constexpr std::size_t tiles_high = (G::out_height + 1) / 2, tiles_wide = (G::out_width + 1) / 2;
    static constexpr std::size_t tiles = tiles_high * tiles_wide;
    // Where it beats the direct kernels: with enough channels for the GEMMs'
    // inner dimension (a 1-channel first layer stays direct). On a Zen 3
    // (AVX2, 2 threads, batch 64-128) the number reader's 3x3 layers ran
    // 1.4-1.8x faster than direct, fashion_cnn's 32-64 over 14x14 1.4x.
    // On a Zen 4 (AVX-512, 2 threads), with the 5x5 layers of 16 channels or
    // more as F(2x2, 5x5) against direct: seed 003's CNN training (its
    // second layer) 1.03x, the CIFAR CNN's (second and third) 1.12x, medians
    // of alternating runs.
    static constexpr bool applies = direct::enabled && (r == 3 || r == 5) && G::kernel_width == r &&
                                    G::stride_height == 1 && G::stride_width == 1 && G::channels >= 16 &&
                                    G::filters >= 16;
    using Matrices = Transform<r == 5 ? 5 : 3>;

    // The padded input's even and odd columns, per channel: rows of
    // `half_row` floats (tiles_wide + alpha / 2 used, a vector's slack after).
    static constexpr std::size_t padded_rows = 2 * tiles_high + alpha - 2;
    static constexpr std::size_t half_row = tiles_wide + alpha / 2 + direct::lanes;
    static constexpr std::size_t half_plane = padded_rows * half_row;
    static constexpr std::size_t split_size = 2 * G::channels * half_plane;
    // Samples per chunk: enough tiles for efficient GEMMs; for F(2x2, 5x5),
    // whose transformed tiles are 9 times the outputs they make, few enough
    // that V and M stay near the core's cache (64 columns against 512, on a
    // Zen 4: seed 003's CNN training 1.08x, the CIFAR CNN's 1.11x).
    static constexpr std::size_t chunk_columns = r == 5 ? 64 : 512;
    static constexpr std::size_t chunk = std::clamp<std::size_t>(chunk_columns / tiles, 1, 16);
    // Columns of V and M: the chunk's tiles, a vector's slack after (the
    // last vector of tiles runs past the end).
    static constexpr std::size_t columns = chunk * tiles + direct::lanes;
    static constexpr std::size_t transformed_kernel_size = positions * G::filters * G::channels;
    static constexpr std::size_t v_size = positions * G::channels * columns, m_size = positions * G::filters * columns;
    static constexpr std::size_t planes_size = G::output_size;
    // What convolve_chunk works in: the split sample, V and M.
    static constexpr std::size_t chunk_area_size =
        direct::whole_lines(split_size) + direct::whole_lines(v_size) + direct::whole_lines(m_size);
    // The transformed kernel first, then each thread's area: the chunk's and
    // one sample's output planes.
    static constexpr std::size_t stride = chunk_area_size + direct::whole_lines(planes_size);
    static std::size_t workspace_size() {
        return direct::whole_lines(transformed_kernel_size) + thread_count() * stride;
    }

    // U[xi][f][c] = (G g G^T)[xi] for the kernel g of filter f, channel c,
    // for filters [first, last). Turned: g is the kernel of a convolution
    // with G's channels and filters swapped, turned by 180 degrees (its
    // input gradient is this one's forward pass: LanesBackward's).
    template <bool Turned = false>
    static void transform_kernel(const float* kernel, float* u, std::size_t first, std::size_t last) {
        constexpr auto& K = Matrices::kernel;
        for (std::size_t f = first; f < last; ++f)
            for (std::size_t c = 0; c < G::channels; ++c) {
                const float* g = kernel + (Turned ? c * G::filters + f : f * G::channels + c) * r * r;
                const auto tap = [&](std::size_t k, std::size_t j) {
                    return Turned ? g[(r - 1 - k) * r + r - 1 - j] : g[k * r + j];
                };
                float t[alpha][r];  // G g
                for (std::size_t i = 0; i < alpha; ++i)
                    for (std::size_t j = 0; j < r; ++j) {
                        float sum = 0.0f;
                        for (std::size_t k = 0; k < r; ++k) sum += K[i][k] * tap(k, j);
                        t[i][j] = sum;
                    }
                for (std::size_t i = 0; i < alpha; ++i)
                    for (std::size_t j = 0; j < alpha; ++j) {
                        float sum = 0.0f;
                        for (std::size_t k = 0; k < r; ++k) sum += t[i][k] * K[j][k];
                        u[((i * alpha + j) * G::filters + f) * G::channels + c] = sum;
                    }
            }
    }

    // One sample's channels, zero-padded, as even and odd columns.
    static void split(const float* x, float* halves) {
        std::fill_n(halves, split_size, 0.0f);
        const std::size_t rows = std::min(G::height, padded_rows - G::pad_top);
        const std::size_t cols = std::min(G::width, 2 * (tiles_wide + alpha / 2) - G::pad_left);
        for (std::size_t c = 0; c < G::channels; ++c) {
            float* even = halves + 2 * c * half_plane;
            float* odd = even + half_plane;
            for (std::size_t h = 0; h < rows; ++h) {
                const float* in = x + (c * G::height + h) * G::width;
                const std::size_t row = (h + G::pad_top) * half_row;
                for (std::size_t w = 0; w < cols; ++w) {
                    const std::size_t p = w + G::pad_left;
                    (p % 2 ? odd : even)[row + p / 2] = in[w];
                }
            }
        }
    }

#if CTNN_CPU_DIRECT_KERNELS
    using vector = direct::vector;
    static constexpr std::size_t lanes = direct::lanes;

    // V[c][xi][first + tile] = (B^T d B)[xi] for the sample's tiles (each
    // channel's positions side by side: a tile's A^2 values a few lines apart).
    static void transform_input(const float* halves, float* v, std::size_t first) {
        for (std::size_t c = 0; c < G::channels; ++c) {
            const float* even = halves + 2 * c * half_plane;
            const float* odd = even + half_plane;
            float* out = v + c * positions * columns + first;
            for (std::size_t th = 0; th < tiles_high; ++th)
                for (std::size_t tw = 0; tw < tiles_wide; tw += lanes) {
                    vector d[alpha][alpha], t[alpha][alpha];  // the tiles' inputs, then B^T d
                    for (std::size_t i = 0; i < alpha; ++i) {
                        const std::size_t row = (2 * th + i) * half_row + tw;
                        for (std::size_t j = 0; j < alpha; ++j) d[i][j] = direct::load((j % 2 ? odd : even) + row + j / 2);
                    }
                    for (std::size_t j = 0; j < alpha; ++j)
                        multiply<Matrices::input>(&d[0][j], alpha, &t[0][j], alpha);
                    for (std::size_t i = 0; i < alpha; ++i) {
                        vector row[alpha];  // (B^T d B)[i]
                        multiply<Matrices::input>(t[i], 1, row, 1);
                        for (std::size_t j = 0; j < alpha; ++j)
                            direct::store(out + th * tiles_wide + tw + (i * alpha + j) * columns, row[j]);
                    }
                }
        }
    }

    // Output planes (filters x OutHeight x OutWidth) from M[f][xi][first + tile].
    static void transform_output(const float* m, std::size_t first, float* planes) {
        for (std::size_t f = 0; f < G::filters; ++f) {
            const float* in = m + f * positions * columns + first;
            float* plane = planes + f * G::pixels;
            for (std::size_t th = 0; th < tiles_high; ++th)
                for (std::size_t tw = 0; tw < tiles_wide; tw += lanes) {
                    vector p[alpha][alpha], s[2][alpha];  // the products, then A^T m
                    for (std::size_t i = 0; i < alpha; ++i)
                        for (std::size_t j = 0; j < alpha; ++j)
                            p[i][j] = direct::load(in + th * tiles_wide + tw + (i * alpha + j) * columns);
                    for (std::size_t j = 0; j < alpha; ++j)
                        multiply<Matrices::output>(&p[0][j], alpha, &s[0][j], alpha);
                    float y[2][2][lanes];
                    for (std::size_t i = 0; i < 2; ++i) {
                        vector pair[2];
                        multiply<Matrices::output>(s[i], 1, pair, 1);
                        direct::store(y[i][0], pair[0]);
                        direct::store(y[i][1], pair[1]);
                    }
                    const std::size_t count = std::min(lanes, tiles_wide - tw);
                    for (std::size_t i = 0; i < 2; ++i) {
                        const std::size_t oh = 2 * th + i;
                        if (oh >= G::out_height) break;
                        float* row = plane + oh * G::out_width + 2 * tw;
                        for (std::size_t k = 0; k < count; ++k) {
                            row[2 * k] = y[i][0][k];
                            if (2 * (tw + k) + 1 < G::out_width) row[2 * k + 1] = y[i][1][k];
                        }
                    }
                }
        }
    }
#endif

    // `count` (at most chunk) samples at x, G::input_size apart, convolved
    // with the transformed kernel u on this thread through `area`
    // (chunk_area_size floats); sample i's output planes go to planes(i),
    // then done(i) runs.
    template <class Backend, class Planes, class Done>
    static void convolve_chunk(const Backend& backend, const float* u, const float* x, std::size_t count,
                               float* area, Planes&& planes, Done&& done) {
#if CTNN_CPU_DIRECT_KERNELS
        float* halves = area;
        float* v = halves + direct::whole_lines(split_size);
        float* m = v + direct::whole_lines(v_size);
        for (std::size_t i = 0; i < count; ++i) {
            split(x + i * G::input_size, halves);
            transform_input(halves, v, i * tiles);
        }
        // M cleared here and added to: OpenBLAS clears with its "beta"
        // kernel, slower than memory (the number reader's layers ran
        // 1.1-1.2x faster).
        std::fill_n(m, positions * G::filters * columns, 0.0f);
        for (std::size_t xi = 0; xi < positions; ++xi)
            backend.gemm(Trans::no, Trans::no, G::filters, count * tiles, G::channels, 1.0f,
                         u + xi * G::filters * G::channels, G::channels, v + xi * columns, positions * columns,
                         1.0f, m + xi * columns, positions * columns);
        for (std::size_t i = 0; i < count; ++i) {
            transform_output(m, i * tiles, planes(i));
            done(i);
        }
#else
        (void)backend, (void)u, (void)x, (void)count, (void)area, (void)planes, (void)done;
#endif
    }

    // The forward pass of a batch of at least thread_count() samples.
    template <class Backend, class Sink>
    static void forward(const Backend& backend, const float* kernel, const float* x, float* y, std::size_t batch,
                        float* workspace, const Sink& sink) {
        float* u = workspace;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            const Share filters = share_of(G::filters, thread, threads);
            transform_kernel(kernel, u, filters.begin, filters.end);
            team_barrier();
            float* area = workspace + direct::whole_lines(transformed_kernel_size) + thread * stride;
            float* planes = area + chunk_area_size;
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk)
                convolve_chunk(
                    backend, u, x + first * G::input_size, std::min(chunk, mine.end - first), area,
                    [&](std::size_t) { return planes; },
                    [&](std::size_t i) {
                        for (std::size_t f = 0; f < G::filters; ++f)
                            sink.forward(planes + f * G::pixels, (first + i) * G::filters + f, y);
                    });
        });
    }
};

} // namespace ctnn::backend::cpu::winograd
