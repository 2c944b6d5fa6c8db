// The backward pass of a convolution whose forward pass is Winograd's
// (winograd.hpp), in the same transformed space: the forward pass's
// transposes, with its A^2 products per tile, channel and filter instead
// of the direct sums' 4 R^2.
//
// A tile's outputs are y = A^T [sum over channels U .* V] A, with U = G g G^T
// and V = B^T d B. So with dy a tile's output gradient and its transform
//   W = A dy A^T (A x A, from the 2 x 2 outputs),
// the gradients are, position by position (the .* above):
//   dU[xi] (filters x channels) = sum over tiles of W[xi] V[xi]^T,
//   dV[xi] (channels x tiles)   = U[xi]^T W[xi],
// and back out of the transformed space dg = G^T dU G (once per batch) and
// dd = B dV B^T per tile, added into the padded input's gradient (the tiles
// overlap by A - 2 rows and columns). Both are 36 GEMMs per chunk of tiles
// for F(2x2, 5x5), as the forward pass is; the threads sum dU over their
// shares of the batch, transform it, and add the results in thread order:
// results depend on the thread count, not on timing.
//
// F(2x2, 5x5)'s kernel gradient rounds to about 2e-6 of the sum of its
// products' magnitudes (the direct sums: about 1e-7); seed 003's CNN still
// reaches 99.1% after 6 epochs (bench/time_to_accuracy). On a Zen 4
// (AVX-512, 2 threads), against the lanes kernels (lanes_backward.hpp):
// seed 003's CNN training 1.33-1.40x, the CIFAR CNN's 1.2x.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/backend/cpu/direct_convolution.hpp"
#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/backend/cpu/winograd.hpp"
#include "ctnn/core/backend.hpp"

namespace ctnn::backend::cpu::winograd {

template <class G>
struct Backward {
    using Forward = Winograd<G>;
    using Matrices = typename Forward::Matrices;
    static constexpr bool applies = Forward::applies;
    static constexpr std::size_t r = Forward::r, alpha = Forward::alpha, positions = Forward::positions;
    static constexpr std::size_t tiles = Forward::tiles, tiles_high = Forward::tiles_high,
                                 tiles_wide = Forward::tiles_wide, columns = Forward::columns,
                                 chunk = Forward::chunk, half_row = Forward::half_row,
                                 half_plane = Forward::half_plane;

    // Each thread's area: the chunk's dz planes, the split sample (its input,
    // then its input gradient), V (then dV), one position's V^T, W, dU, and
    // the kernel and bias sums.
    static constexpr std::size_t halves_offset = direct::whole_lines(chunk * G::output_size);
    static constexpr std::size_t vt_offset = halves_offset + direct::whole_lines(Forward::split_size);
    static constexpr std::size_t v_offset = vt_offset + direct::whole_lines(chunk * tiles * G::channels);
    static constexpr std::size_t w_offset = v_offset + direct::whole_lines(Forward::v_size);
    static constexpr std::size_t du_offset = w_offset + direct::whole_lines(Forward::m_size);
    static constexpr std::size_t partial_offset = du_offset + direct::whole_lines(Forward::transformed_kernel_size);
    static constexpr std::size_t stride = direct::whole_lines(partial_offset + G::kernel_size + G::filters);
    static constexpr std::size_t u_size = direct::whole_lines(Forward::transformed_kernel_size);
    static std::size_t workspace_size() { return u_size + thread_count() * stride; }

    // One sample's tiles' 2 x 2 output gradients into w[f][a * 2 + b][first
    // + tile] (W's layout, before the transform), zeros for the outputs past
    // an odd OutHeight or OutWidth (computed by the forward pass, dropped).
    static void gather_output_gradient(const float* dz, float* w, std::size_t first) {
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t a = 0; a < 2; ++a)
                for (std::size_t b = 0; b < 2; ++b) {
                    const float* plane = dz + f * G::pixels;
                    float* out = w + (f * positions + a * 2 + b) * columns + first;
                    for (std::size_t th = 0; th < tiles_high; ++th) {
                        const std::size_t oh = 2 * th + a;
                        for (std::size_t tw = 0; tw < tiles_wide; ++tw) {
                            const std::size_t ow = 2 * tw + b;
                            out[th * tiles_wide + tw] =
                                oh < G::out_height && ow < G::out_width ? plane[oh * G::out_width + ow] : 0.0f;
                        }
                    }
                }
    }

    // The padded input's gradient as even and odd columns (Forward::split's
    // layout): each of the sample's tiles' A x A gradients, dd[c][i][j][first
    // + tile], added in.
    static void scatter_input_gradient(const float* dd, std::size_t first, float* halves) {
        std::fill_n(halves, Forward::split_size, 0.0f);
        for (std::size_t c = 0; c < G::channels; ++c) {
            float* even = halves + 2 * c * half_plane;
            float* odd = even + half_plane;
            for (std::size_t i = 0; i < alpha; ++i)
                for (std::size_t j = 0; j < alpha; ++j) {
                    const float* in = dd + (c * positions + i * alpha + j) * columns + first;
                    float* out = (j % 2 ? odd : even) + j / 2;
                    for (std::size_t th = 0; th < tiles_high; ++th) {
                        float* row = out + (2 * th + i) * half_row;
                        for (std::size_t tw = 0; tw < tiles_wide; ++tw) row[tw] += in[th * tiles_wide + tw];
                    }
                }
        }
    }

    // dx (channel planes) from the split padded gradient: the padding
    // dropped, zeros where no tile reads the input.
    static void gather(const float* halves, float* dx) {
        const std::size_t rows = std::min(G::height, Forward::padded_rows - G::pad_top);
        const std::size_t cols = std::min(G::width, 2 * (tiles_wide + alpha / 2) - G::pad_left);
        for (std::size_t c = 0; c < G::channels; ++c) {
            const float* even = halves + 2 * c * half_plane;
            const float* odd = even + half_plane;
            for (std::size_t h = 0; h < G::height; ++h) {
                float* out = dx + (c * G::height + h) * G::width;
                const std::size_t row = (h + G::pad_top) * half_row;
                for (std::size_t w = 0; w < G::width; ++w) {
                    const std::size_t p = w + G::pad_left;
                    out[w] = h < rows && w < cols ? (p % 2 ? odd : even)[row + p / 2] : 0.0f;
                }
            }
        }
    }

    // kernel_gradient[f][c] = G^T dU[.][f][c] G, the channels innermost (so
    // that the sums run in vectors).
    static void kernel_gradient_from(const float* du, float* kernel_gradient) {
        constexpr auto& K = Matrices::kernel;
        for (std::size_t f = 0; f < G::filters; ++f) {
            float t[r][alpha][G::channels];  // G^T dU
            for (std::size_t k = 0; k < r; ++k)
                for (std::size_t l = 0; l < alpha; ++l) {
                    float* sum = t[k][l];
                    std::fill_n(sum, G::channels, 0.0f);
                    for (std::size_t i = 0; i < alpha; ++i) {
                        const float* d = du + ((i * alpha + l) * G::filters + f) * G::channels;
                        for (std::size_t c = 0; c < G::channels; ++c) sum[c] += K[i][k] * d[c];
                    }
                }
            for (std::size_t k = 0; k < r; ++k)
                for (std::size_t j = 0; j < r; ++j)
                    for (std::size_t c = 0; c < G::channels; ++c) {
                        float sum = 0.0f;
                        for (std::size_t l = 0; l < alpha; ++l) sum += t[k][l][c] * K[l][j];
                        kernel_gradient[(f * G::channels + c) * r * r + k * r + j] = sum;
                    }
        }
    }

    // Writes the kernel and bias gradients, and dx unless it is null.
    template <class Backend, class Sink>
    static void backward(const Backend& backend, const float* kernel, const float* x, const float* y,
                         const float* dy, float* dx, float* kernel_gradient, float* bias_gradient,
                         std::size_t batch, float* workspace, const Sink& sink) {
#if CTNN_CPU_DIRECT_KERNELS
        float* u = workspace;
        std::size_t used = 0;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            if (thread == 0) used = std::min(threads, batch);
            if (dx) {
                const Share filters = share_of(G::filters, thread, threads);
                Forward::template transform_kernel<true>(kernel, u, filters.begin, filters.end);
                team_barrier();
            }
            float* area = workspace + u_size + thread * stride;
            float* dz = area;
            float* halves = area + halves_offset;
            float* v = area + v_offset;
            float* vt = area + vt_offset;
            float* w = area + w_offset;
            float* du = area + du_offset;
            float* partial = area + partial_offset;
            const Share mine = share_of(batch, thread, threads);
            if (mine.begin == mine.end) return;
            std::fill_n(du, Forward::transformed_kernel_size, 0.0f);
            constexpr std::size_t ld = positions * columns;
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first), n = count * tiles;
                for (std::size_t i = 0; i < count; ++i) {
                    const std::size_t s = first + i;
                    float* sample_dz = dz + i * G::output_size;
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.backward(dy, y, s * G::filters + f, sample_dz + f * G::pixels);
                    Forward::split(x + s * G::input_size, halves);
                    Forward::gather_tiles(halves, v, i * tiles);
                    gather_output_gradient(sample_dz, w, i * tiles);
                }
                direct::add_bias_sums<G>(dz, count, partial + G::kernel_size, first != mine.begin);
                Forward::clear_slack(v, positions * G::channels, n);
                Forward::template transform_columns<Matrices::input, false>(v, G::channels, n);
                for (std::size_t f = 0; f < G::filters; ++f) Forward::clear_slack(w + f * ld, 4, n);
                Forward::template transform_columns<Matrices::output, true>(w, G::filters, n);
                // dU and (below) dV are added to: see convolve_chunk on
                // OpenBLAS's "beta" kernel. V^T, not V transposed by
                // OpenBLAS: it takes its small-matrix kernels for products
                // as small as these only without (seed 003's CNN training:
                // 1.04-1.06x faster).
                for (std::size_t xi = 0; xi < positions; ++xi) {
                    direct::transpose<G::channels>(v + xi * columns, ld, n, vt, G::channels);
                    backend.gemm(Trans::no, Trans::no, G::filters, G::channels, n, 1.0f, w + xi * columns, ld, vt,
                                 G::channels, 1.0f, du + xi * G::filters * G::channels, G::channels);
                }
                if (!dx) continue;
                float* dv = v;  // V is no longer needed
                std::fill_n(dv, Forward::v_size, 0.0f);
                for (std::size_t xi = 0; xi < positions; ++xi)
                    backend.gemm(Trans::no, Trans::no, G::channels, n, G::filters, 1.0f,
                                 u + xi * G::filters * G::channels, G::filters, w + xi * columns, ld, 1.0f,
                                 dv + xi * columns, ld);
                Forward::template transform_columns<Matrices::input, true>(dv, G::channels, n);
                for (std::size_t i = 0; i < count; ++i) {
                    scatter_input_gradient(dv, i * tiles, halves);
                    gather(halves, dx + (first + i) * G::input_size);
                }
            }
            kernel_gradient_from(du, partial);
        });
        direct::add_partials<G>(workspace + u_size + partial_offset, stride, used, kernel_gradient, bias_gradient);
#else
        (void)backend, (void)kernel, (void)x, (void)y, (void)dy, (void)dx, (void)kernel_gradient,
            (void)bias_gradient, (void)batch, (void)workspace, (void)sink;
#endif
    }
};

} // namespace ctnn::backend::cpu::winograd
