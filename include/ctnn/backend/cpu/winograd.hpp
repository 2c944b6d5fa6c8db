// The forward pass of a stride-1 3x3 convolution as Winograd's F(2x2, 3x3):
// each 2x2 block of outputs (a tile) from the 4x4 block of the padded input
// around it with 16 products per channel and filter instead of 36.
//
// With d a tile's 4x4 input, g a 3x3 kernel and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// the tile's outputs are A^T [sum over channels (G g G^T) .* (B^T d B)] A.
// So the 16 positions xi of the transformed 4x4 blocks are 16 independent
// matrix products, M[xi] (filters x tiles) = U[xi] (filters x channels) *
// V[xi] (channels x tiles), each one GEMM of a quarter of the direct
// convolution's multiply-adds (2.25 times fewer in all, less the transforms).
// Each thread transforms a chunk of its samples' tiles, runs the 16 GEMMs on
// one thread, and transforms the products back into output planes for the
// sink. The transforms run 8 or 16 tiles at a time in vectors: the padded
// input is kept as its even and its odd columns, so that the four columns
// of a row of tiles are contiguous runs.
//
// Outputs past an odd OutHeight or OutWidth are computed and dropped. The
// results differ from the direct sum by rounding only (the transforms add
// and halve; the tests compare with the definition in double).
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/backend/cpu/direct_convolution.hpp"
#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/core/backend.hpp"

namespace ctnn::backend::cpu::winograd {

template <class G>
struct Winograd {
    static constexpr std::size_t tiles_high = (G::out_height + 1) / 2, tiles_wide = (G::out_width + 1) / 2;
    static constexpr std::size_t tiles = tiles_high * tiles_wide;
    // Where it beats the direct kernels: with enough channels for the GEMMs'
    // inner dimension (a 1-channel first layer stays direct). On a Zen 3
    // (AVX2, 2 threads, batch 64-128) the number reader's 3x3 layers ran
    // 1.4-1.8x faster than direct, fashion_cnn's 32-64 over 14x14 1.4x.
    static constexpr bool applies = direct::enabled && G::kernel_height == 3 && G::kernel_width == 3 &&
                                    G::stride_height == 1 && G::stride_width == 1 && G::channels >= 16 &&
                                    G::filters >= 16;

    // The padded input's even and odd columns, per channel: rows of
    // `half_row` floats (tiles_wide + 1 used, a vector's slack after).
    static constexpr std::size_t padded_rows = 2 * tiles_high + 2;
    static constexpr std::size_t half_row = tiles_wide + 1 + direct::lanes;
    static constexpr std::size_t half_plane = padded_rows * half_row;
    static constexpr std::size_t split_size = 2 * G::channels * half_plane;
    // Samples per chunk: enough tiles for efficient GEMMs.
    static constexpr std::size_t chunk = std::clamp<std::size_t>(512 / tiles, 1, 16);
    // Columns of V and M: the chunk's tiles, a vector's slack after (the
    // last vector of tiles runs past the end).
    static constexpr std::size_t columns = chunk * tiles + direct::lanes;
    static constexpr std::size_t transformed_kernel_size = 16 * G::filters * G::channels;
    static constexpr std::size_t v_size = 16 * G::channels * columns, m_size = 16 * G::filters * columns;
    static constexpr std::size_t planes_size = G::output_size;
    // The transformed kernel first, then each thread's area: the split
    // sample, V, M and one sample's output planes.
    static constexpr std::size_t stride = direct::whole_lines(split_size) + direct::whole_lines(v_size) +
                                          direct::whole_lines(m_size) + direct::whole_lines(planes_size);
    static std::size_t workspace_size() {
        return direct::whole_lines(transformed_kernel_size) + thread_count() * stride;
    }

    // U[xi][f][c] = (G g G^T)[xi] for the kernel g of filter f, channel c.
    static void transform_kernel(const float* kernel, float* u) {
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t c = 0; c < G::channels; ++c) {
                const float* g = kernel + (f * G::channels + c) * 9;
                float t[4][3];  // G g
                for (std::size_t j = 0; j < 3; ++j) {
                    t[0][j] = g[j];
                    t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                    t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                    t[3][j] = g[6 + j];
                }
                for (std::size_t i = 0; i < 4; ++i) {
                    const float row[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                                          0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                    for (std::size_t j = 0; j < 4; ++j) u[((i * 4 + j) * G::filters + f) * G::channels + c] = row[j];
                }
            }
    }

    // One sample's channels, zero-padded, as even and odd columns.
    static void split(const float* x, float* halves) {
        std::fill_n(halves, split_size, 0.0f);
        const std::size_t rows = std::min(G::height, padded_rows - G::pad_top);
        const std::size_t cols = std::min(G::width, 2 * (tiles_wide + 1) - G::pad_left);
        for (std::size_t c = 0; c < G::channels; ++c) {
            float* even = halves + 2 * c * half_plane;
            float* odd = even + half_plane;
            for (std::size_t h = 0; h < rows; ++h) {
                const float* in = x + (c * G::height + h) * G::width;
                const std::size_t r = (h + G::pad_top) * half_row;
                for (std::size_t w = 0; w < cols; ++w) {
                    const std::size_t p = w + G::pad_left;
                    (p % 2 ? odd : even)[r + p / 2] = in[w];
                }
            }
        }
    }

#if CTNN_CPU_DIRECT_KERNELS
    using vector = direct::vector;
    static constexpr std::size_t lanes = direct::lanes;

    // V[xi][c][first + tile] = (B^T d B)[xi] for the sample's tiles.
    static void transform_input(const float* halves, float* v, std::size_t first) {
        for (std::size_t c = 0; c < G::channels; ++c) {
            const float* even = halves + 2 * c * half_plane;
            const float* odd = even + half_plane;
            float* out = v + c * columns + first;
            for (std::size_t th = 0; th < tiles_high; ++th)
                for (std::size_t tw = 0; tw < tiles_wide; tw += lanes) {
                    vector t[4][4];  // B^T d, columns 0..3 of the tiles' rows
                    vector d[4][4];
                    for (std::size_t i = 0; i < 4; ++i) {
                        const std::size_t r = (2 * th + i) * half_row + tw;
                        d[i][0] = direct::load(even + r);
                        d[i][1] = direct::load(odd + r);
                        d[i][2] = direct::load(even + r + 1);
                        d[i][3] = direct::load(odd + r + 1);
                    }
                    for (std::size_t j = 0; j < 4; ++j) {
                        t[0][j] = d[0][j] - d[2][j];
                        t[1][j] = d[1][j] + d[2][j];
                        t[2][j] = d[2][j] - d[1][j];
                        t[3][j] = d[1][j] - d[3][j];
                    }
                    float* at = out + th * tiles_wide + tw;
                    for (std::size_t i = 0; i < 4; ++i) {
                        direct::store(at + (i * 4 + 0) * G::channels * columns, t[i][0] - t[i][2]);
                        direct::store(at + (i * 4 + 1) * G::channels * columns, t[i][1] + t[i][2]);
                        direct::store(at + (i * 4 + 2) * G::channels * columns, t[i][2] - t[i][1]);
                        direct::store(at + (i * 4 + 3) * G::channels * columns, t[i][1] - t[i][3]);
                    }
                }
        }
    }

    // Output planes (filters x OutHeight x OutWidth) from M[xi][f][first + tile].
    static void transform_output(const float* m, std::size_t first, float* planes) {
        for (std::size_t f = 0; f < G::filters; ++f) {
            const float* in = m + f * columns + first;
            float* plane = planes + f * G::pixels;
            for (std::size_t th = 0; th < tiles_high; ++th)
                for (std::size_t tw = 0; tw < tiles_wide; tw += lanes) {
                    const float* at = in + th * tiles_wide + tw;
                    vector s[2][4];  // A^T m
                    for (std::size_t j = 0; j < 4; ++j) {
                        const vector m0 = direct::load(at + (0 * 4 + j) * G::filters * columns);
                        const vector m1 = direct::load(at + (1 * 4 + j) * G::filters * columns);
                        const vector m2 = direct::load(at + (2 * 4 + j) * G::filters * columns);
                        const vector m3 = direct::load(at + (3 * 4 + j) * G::filters * columns);
                        s[0][j] = m0 + m1 + m2;
                        s[1][j] = m1 - m2 - m3;
                    }
                    float y[2][2][lanes];
                    for (std::size_t i = 0; i < 2; ++i) {
                        direct::store(y[i][0], s[i][0] + s[i][1] + s[i][2]);
                        direct::store(y[i][1], s[i][1] - s[i][2] - s[i][3]);
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

    // The forward pass of a batch of at least thread_count() samples.
    template <class Backend, class Sink>
    static void forward(const Backend& backend, const float* kernel, const float* x, float* y, std::size_t batch,
                        float* workspace, const Sink& sink) {
#if CTNN_CPU_DIRECT_KERNELS
        const float* u = workspace;
        transform_kernel(kernel, workspace);
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            float* halves = workspace + direct::whole_lines(transformed_kernel_size) + thread * stride;
            float* v = halves + direct::whole_lines(split_size);
            float* m = v + direct::whole_lines(v_size);
            float* planes = m + direct::whole_lines(m_size);
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first);
                for (std::size_t i = 0; i < count; ++i) {
                    split(x + (first + i) * G::input_size, halves);
                    transform_input(halves, v, i * tiles);
                }
                // M cleared here and added to: OpenBLAS clears with its "beta"
                // kernel, slower than memory (the number reader's layers ran
                // 1.1-1.2x faster).
                std::fill_n(m, 16 * G::filters * columns, 0.0f);
                for (std::size_t xi = 0; xi < 16; ++xi)
                    backend.gemm(Trans::no, Trans::no, G::filters, count * tiles, G::channels, 1.0f,
                                 u + xi * G::filters * G::channels, G::channels, v + xi * G::channels * columns,
                                 columns, 1.0f, m + xi * G::filters * columns, columns);
                for (std::size_t i = 0; i < count; ++i) {
                    transform_output(m, i * tiles, planes);
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.forward(planes + f * G::pixels, (first + i) * G::filters + f, y);
                }
            }
        });
#else
        (void)backend, (void)kernel, (void)x, (void)y, (void)batch, (void)workspace, (void)sink;
#endif
    }
};

} // namespace ctnn::backend::cpu::winograd
