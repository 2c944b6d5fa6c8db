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
// together; then each gathers a chunk of its samples' tiles into V's
// layout, transforms them in place, runs the GEMMs on one thread, and
// transforms the products back into output planes for the sink. The
// transforms run over V's and M's columns 8 or 16 tiles at a time in
// vectors, across rows of tiles and samples (none part empty), their
// coefficients fixed at compile time (a zero costs nothing, a one an
// addition). The gather reads the padded input kept as its even and its
// odd columns, where each position of a row of tiles is a contiguous run.
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
// out[i] = sum over k of M[i][k] * in[k * stride] (of M^T: M[k][i]), the
// coefficients known at compile time: zeros skipped, ones added.
template <const auto& M, bool Transposed, std::size_t I, std::size_t K, class Value>
inline Value term(Value sum, Value x) {
    constexpr float c = Transposed ? M[K][I] : M[I][K];
    if constexpr (c == 0.0f) return sum;
    else if constexpr (c == 1.0f) return sum + x;
    else if constexpr (c == -1.0f) return sum - x;
    else return direct::multiply_add(x, c, sum);
}
template <const auto& M, bool Transposed, std::size_t I, class Value, std::size_t... K>
inline Value row_times(const Value* in, std::size_t stride, std::index_sequence<K...>) {
    Value sum = direct::zero();
    ((sum = term<M, Transposed, I, K>(sum, in[K * stride])), ...);
    return sum;
}
// out = M in (Transposed: M^T in), in and out columns of values `stride` apart.
template <const auto& M, bool Transposed = false, class Value>
inline void multiply(const Value* in, std::size_t in_stride, Value* out, std::size_t out_stride) {
    using Matrix = std::remove_cvref_t<decltype(M)>;
    constexpr std::size_t rows = std::extent_v<Matrix, Transposed ? 1 : 0>;
    constexpr std::size_t inner = std::extent_v<Matrix, Transposed ? 0 : 1>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((out[I * out_stride] = row_times<M, Transposed, I>(in, in_stride, std::make_index_sequence<inner>{})), ...);
    }(std::make_index_sequence<rows>{});
}

// out = M in M^T (Transposed: M^T in M) for the In x In values of a vector
// of tiles; out is Out x Out.
template <const auto& M, bool Transposed, std::size_t In, std::size_t Out, class Value>
inline void sandwich(const Value (&in)[In][In], Value (&out)[Out][Out]) {
    Value t[Out][In];  // M in
    for (std::size_t j = 0; j < In; ++j) multiply<M, Transposed>(&in[0][j], In, &t[0][j], In);
    for (std::size_t i = 0; i < Out; ++i) multiply<M, Transposed>(t[i], 1, out[i], 1);
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
    // `half_row` floats, as far as the tiles reach.
    static constexpr std::size_t padded_rows = 2 * tiles_high + alpha - 2;
    static constexpr std::size_t half_row = tiles_wide + alpha / 2;
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
    // for filters [first, last); FiltersInnermost: U[xi][c][f] (U[xi]^T,
    // for the input gradient's GEMMs, winograd_backward.hpp).
    template <bool FiltersInnermost = false>
    static void transform_kernel(const float* kernel, float* u, std::size_t first, std::size_t last) {
        constexpr auto& K = Matrices::kernel;
        for (std::size_t f = first; f < last; ++f)
            for (std::size_t c = 0; c < G::channels; ++c) {
                const float* g = kernel + (f * G::channels + c) * r * r;
                float t[alpha][r];  // G g
                for (std::size_t i = 0; i < alpha; ++i)
                    for (std::size_t j = 0; j < r; ++j) {
                        float sum = 0.0f;
                        for (std::size_t k = 0; k < r; ++k) sum += K[i][k] * g[k * r + j];
                        t[i][j] = sum;
                    }
                for (std::size_t i = 0; i < alpha; ++i)
                    for (std::size_t j = 0; j < alpha; ++j) {
                        float sum = 0.0f;
                        for (std::size_t k = 0; k < r; ++k) sum += t[i][k] * K[j][k];
                        const std::size_t xi = i * alpha + j;
                        u[FiltersInnermost ? (xi * G::channels + c) * G::filters + f
                                           : (xi * G::filters + f) * G::channels + c] = sum;
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

    // The tiles' inputs d[c][i][j][first + tile] (V's layout, before the
    // transform) from one split sample: for each tile row, position (i, j)
    // of its tiles is a contiguous run of one half.
    static void gather_tiles(const float* halves, float* v, std::size_t first) {
        for (std::size_t c = 0; c < G::channels; ++c) {
            const float* even = halves + 2 * c * half_plane;
            const float* odd = even + half_plane;
            for (std::size_t i = 0; i < alpha; ++i)
                for (std::size_t j = 0; j < alpha; ++j) {
                    const float* in = (j % 2 ? odd : even) + j / 2;
                    float* out = v + (c * positions + i * alpha + j) * columns + first;
                    for (std::size_t th = 0; th < tiles_high; ++th)
                        std::copy_n(in + (2 * th + i) * half_row, tiles_wide, out + th * tiles_wide);
                }
        }
    }

    // Clears columns [n, n + lanes) of `rows` rows: what the last vector of
    // the transforms reads past the tiles.
    static void clear_slack(float* data, std::size_t rows, std::size_t n) {
        for (std::size_t row = 0; row < rows; ++row) std::fill_n(data + row * columns + n, direct::lanes, 0.0f);
    }

#if CTNN_CPU_DIRECT_KERNELS
    // For `groups` channels or filters of positions rows each: the In x In
    // values of each column (tile) at rows i * In + j become the Out x Out
    // values M x M^T (Transposed: M^T x M) at rows i * Out + j, in place,
    // columns [0, n) a vector at a time. Every vector is whole: a sample's
    // tiles run on into the next sample's, so an 8x8 output (16 tiles) is one
    // AVX-512 vector, not four a quarter full.
    template <const auto& M, bool Transposed>
    static void transform_columns(float* data, std::size_t groups, std::size_t n) {
        using Matrix = std::remove_cvref_t<decltype(M)>;
        constexpr std::size_t in = std::extent_v<Matrix, Transposed ? 0 : 1>;
        constexpr std::size_t out = std::extent_v<Matrix, Transposed ? 1 : 0>;
        for (std::size_t g = 0; g < groups; ++g) {
            float* rows = data + g * positions * columns;
            for (std::size_t q = 0; q < n; q += direct::lanes) {
                direct::vector before[in][in], after[out][out];
                for (std::size_t i = 0; i < in; ++i)
                    for (std::size_t j = 0; j < in; ++j) before[i][j] = direct::load(rows + (i * in + j) * columns + q);
                sandwich<M, Transposed>(before, after);
                for (std::size_t i = 0; i < out; ++i)
                    for (std::size_t j = 0; j < out; ++j) direct::store(rows + (i * out + j) * columns + q, after[i][j]);
            }
        }
    }
#endif

    // One sample's output planes from its tiles' 2 x 2 outputs, m[f][a * 2 +
    // b][first + tile]; outputs past an odd OutHeight or OutWidth dropped.
    static void scatter_outputs(const float* m, std::size_t first, float* planes) {
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t a = 0; a < 2; ++a)
                for (std::size_t b = 0; b < 2; ++b) {
                    const float* in = m + (f * positions + a * 2 + b) * columns + first;
                    float* plane = planes + f * G::pixels;
                    for (std::size_t th = 0; th < tiles_high; ++th) {
                        const std::size_t oh = 2 * th + a;
                        if (oh >= G::out_height) break;
                        for (std::size_t tw = 0; tw < tiles_wide; ++tw)
                            if (2 * tw + b < G::out_width)
                                plane[oh * G::out_width + 2 * tw + b] = in[th * tiles_wide + tw];
                    }
                }
    }

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
        const std::size_t n = count * tiles;
        for (std::size_t i = 0; i < count; ++i) {
            split(x + i * G::input_size, halves);
            gather_tiles(halves, v, i * tiles);
        }
        clear_slack(v, positions * G::channels, n);
        transform_columns<Matrices::input, false>(v, G::channels, n);
        // M cleared here and added to: OpenBLAS clears with its "beta"
        // kernel, slower than memory (the number reader's layers ran
        // 1.1-1.2x faster).
        std::fill_n(m, positions * G::filters * columns, 0.0f);
        for (std::size_t xi = 0; xi < positions; ++xi)
            backend.gemm(Trans::no, Trans::no, G::filters, n, G::channels, 1.0f, u + xi * G::filters * G::channels,
                         G::channels, v + xi * columns, positions * columns, 1.0f, m + xi * columns,
                         positions * columns);
        transform_columns<Matrices::output, false>(m, G::filters, n);
        for (std::size_t i = 0; i < count; ++i) {
            scatter_outputs(m, i * tiles, planes(i));
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
