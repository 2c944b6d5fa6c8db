// The CPU's own stride-1 convolution forward, without im2col: the outputs
// computed straight from the sample (the backward passes are in
// lanes_backward.hpp).
//
// With stride 1, output pixel (oh, ow) of filter f reads input pixels
// (oh + kh, ow + kw) of the padded image, Hp x Wp. A block of FR filters x
// VR vectors of outputs is FR * VR accumulators in registers, and each
// kernel tap (c, kh, kw) costs VR unaligned loads, FR broadcast weights and
// FR * VR fused multiply-adds: no unfolded columns written and read back,
// no packing by a GEMM library. The vectors run through each filter's
// compact plane of outputs, q = oh * OutWidth + ow, and read, per tap, one
// contiguous run of the input laid out in one of two ways (Plan::by_rows):
// - by rows, where the output rows are whole vectors (8x8 and 16x16 planes
//   with AVX2, 16x16 and 32x32 with AVX-512): the padded image, a vector
//   at (oh, ow) reading (oh + kh) * Wp + ow + kw;
// - otherwise shifted copies: copy kw holds, for each channel, the padded
//   rows' OutWidth columns from column kw on, so output q reads copy kw's
//   channel c at q + kh * OutWidth, and vectors run on across rows. Nothing
//   computed is discarded but the last vector's rounding: an 8x8 plane is
//   four AVX-512 vectors, where running through the padded width (12
//   columns for a 5x5 kernel) took six and discarded a third.
//
// The register blocking and the tails are chosen from the static shapes; the
// vectors are AVX-512's 16 floats or AVX2's 8 (with FMA), whichever the
// target has. Without either, `enabled` is false and the backend keeps
// im2col and GEMM; DirectConvolution says where it is used.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string_view>

#include "ctnn/backend/cpu/parallel.hpp"
#include "ctnn/backend/generic/convolution.hpp"

// The kernels exist where the target has AVX-512, or AVX2 with FMA.
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define CTNN_CPU_DIRECT_KERNELS 1
#else
#define CTNN_CPU_DIRECT_KERNELS 0
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ctnn::backend::cpu::direct {

#if defined(__AVX512F__)
inline constexpr bool enabled = true;
inline constexpr std::size_t lanes = 16, registers = 32;
using vector = __m512;
inline vector zero() { return _mm512_setzero_ps(); }
inline vector load(const float* p) { return _mm512_loadu_ps(p); }
inline vector broadcast(const float* p) { return _mm512_set1_ps(*p); }
inline vector add(vector x, vector y) { return _mm512_add_ps(x, y); }
inline void store(float* p, vector v) { _mm512_storeu_ps(p, v); }
inline vector multiply_add(vector x, float w, vector sum) { return _mm512_fmadd_ps(x, _mm512_set1_ps(w), sum); }
inline vector multiply_add(vector x, vector y, vector sum) { return _mm512_fmadd_ps(x, y, sum); }
#elif defined(__AVX2__) && defined(__FMA__)
inline constexpr bool enabled = true;
inline constexpr std::size_t lanes = 8, registers = 16;
using vector = __m256;
inline vector zero() { return _mm256_setzero_ps(); }
inline vector load(const float* p) { return _mm256_loadu_ps(p); }
inline vector broadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline vector add(vector x, vector y) { return _mm256_add_ps(x, y); }
inline void store(float* p, vector v) { _mm256_storeu_ps(p, v); }
inline vector multiply_add(vector x, float w, vector sum) { return _mm256_fmadd_ps(x, _mm256_set1_ps(w), sum); }
inline vector multiply_add(vector x, vector y, vector sum) { return _mm256_fmadd_ps(x, y, sum); }
#else
inline constexpr bool enabled = false;
inline constexpr std::size_t lanes = 8, registers = 16;
#endif
// CTNN_DIRECT_CONVOLUTION=0 keeps every convolution on im2col + sgemm: to
// measure what the kernels bring, or to rule them out. Read once.
inline bool switched_on() {
    static const bool on = [] {
        const char* chosen = std::getenv("CTNN_DIRECT_CONVOLUTION");
        return !(chosen && std::string_view(chosen) == "0");
    }();
    return on;
}

// Floats rounded up to whole 64-byte cache lines: each thread's area of a
// workspace starts on a line of its own.
constexpr std::size_t whole_lines(std::size_t floats) { return (floats + 15) / 16 * 16; }

// body.template operator()<Block>(first) for each whole block of [0, Count),
// then body.template operator()<Count % Block>(first) for the rest: the
// register blocks of a loop whose block size is a template argument.
template <std::size_t Count, std::size_t Block, class Body>
void for_blocks(Body&& body) {
    std::size_t first = 0;
    for (; first + Block <= Count; first += Block) body.template operator()<Block>(first);
    if constexpr (Count % Block > 0) body.template operator()<Count % Block>(first);
}

// body.template operator()<R, C>(row, column) over a Rows x Columns grid in
// tiles of RowBlock x ColumnBlock, smaller ones at the ends: a register
// block's two extents.
template <std::size_t Rows, std::size_t RowBlock, std::size_t Columns, std::size_t ColumnBlock, class Body>
void for_tiles(Body&& body) {
    for_blocks<Rows, RowBlock>([&]<std::size_t R>(std::size_t row) {
        for_blocks<Columns, ColumnBlock>(
            [&]<std::size_t C>(std::size_t column) { body.template operator()<R, C>(row, column); });
    });
}

// What the kernels were compiled for, for reports.
inline constexpr const char* instruction_set = !enabled ? "none" : lanes == 16 ? "AVX-512" : "AVX2 with FMA";

// The sum of a vector's lanes. GCC 12 warns at -O1 that the upper lanes
// its reduction intrinsics start from are uninitialised (they are
// overwritten; the warning is about the intrinsics' own code).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if defined(__AVX512F__)
inline float sum_of(vector v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__)
inline float sum_of(vector v) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
}
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if defined(__AVX2__)
// to[j * to_stride + i] = from[i * from_stride + j] for i, j < 8.
inline void transpose8(const float* from, std::size_t from_stride, float* to, std::size_t to_stride) {
    __m256 r[8];
    for (std::size_t i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(from + i * from_stride);
    // Pairs of rows interleaved, then fours, then the halves swapped.
    __m256 pairs[8], fours[8];
    for (std::size_t i = 0; i < 8; i += 2) {
        pairs[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        pairs[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (std::size_t i = 0; i < 8; i += 4) {
        fours[i] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        fours[i + 1] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        fours[i + 2] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        fours[i + 3] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (std::size_t j = 0; j < 4; ++j) {
        _mm256_storeu_ps(to + j * to_stride, _mm256_permute2f128_ps(fours[j], fours[j + 4], 0x20));
        _mm256_storeu_ps(to + (j + 4) * to_stride, _mm256_permute2f128_ps(fours[j], fours[j + 4], 0x31));
    }
}
#endif

// to[j * to_stride + i] = from[i * from_stride + j] for i < Rows, j <
// columns: 8x8 blocks through the registers where there are whole ones.
template <std::size_t Rows>
void transpose(const float* from, std::size_t from_stride, std::size_t columns, float* to, std::size_t to_stride) {
#if defined(__AVX2__)
    constexpr std::size_t blocked = Rows / 8 * 8;
    const std::size_t whole = columns / 8 * 8;
    for (std::size_t i = 0; i < blocked; i += 8) {
        for (std::size_t j = 0; j < whole; j += 8)
            transpose8(from + i * from_stride + j, from_stride, to + j * to_stride + i, to_stride);
        for (std::size_t j = whole; j < columns; ++j) {
            float* out = to + j * to_stride + i;
            for (std::size_t k = 0; k < 8; ++k) out[k] = from[(i + k) * from_stride + j];
        }
    }
#else
    constexpr std::size_t blocked = 0;
#endif
    if constexpr (blocked < Rows)
        for (std::size_t i = blocked; i < Rows; ++i)
            for (std::size_t j = 0; j < columns; ++j) to[j * to_stride + i] = from[i * from_stride + j];
}

// Filters per register block for VR vectors of outputs: the accumulators,
// VR input vectors and one broadcast weight fill the register file. Of
// AVX2's 16, two stay spare: with 12 accumulators GCC 12 shuffled them
// between registers and spilled some, and a Zen 3 ran the CIFAR CNN's
// layers 1.2-1.4x slower than with 10.
constexpr std::size_t filters_per_block(std::size_t vectors) {
    constexpr std::size_t spare = registers == 32 ? 0 : 2;
    return std::min<std::size_t>((registers - vectors - 1 - spare) / vectors, registers == 32 ? 16 : 10);
}

// The blocking of one convolution geometry G (stride 1).
template <class G>
struct Plan {
    static_assert(G::stride_height == 1 && G::stride_width == 1);
    static constexpr std::size_t padded_height = G::out_height + G::kernel_height - 1;
    static constexpr std::size_t padded_width = G::out_width + G::kernel_width - 1;
    static constexpr std::size_t padded_plane = padded_height * padded_width;
    // The zero-padded image (pad, tap_offset), as the lanes kernels read it.
    static constexpr std::size_t padded_size = G::channels * padded_plane + lanes + G::kernel_width;
    // The output vectors run through the compact plane, output q = oh *
    // OutWidth + ow, vector v at q = v * lanes. By rows (output rows of
    // whole vectors) the input they read is the padded image; otherwise it
    // is the shifted copies (the comment at the top says how each works).
    static constexpr bool by_rows = G::out_width % lanes == 0;
    static constexpr std::size_t copy_plane = padded_height * G::out_width;
    static constexpr std::size_t output_vectors = (G::out_height * G::out_width + lanes - 1) / lanes;
    // VR: the fewest vectors computed in all (the last block rounds up),
    // then the most per block (fewer weight broadcasts per multiply-add).
    static constexpr std::size_t vectors_per_block = [] {
        constexpr std::size_t most = registers == 32 ? 4 : 2;
        std::size_t best = 1;
        for (std::size_t v = 1; v <= most; ++v) {
            const auto computed = [](std::size_t w) { return (output_vectors + w - 1) / w * w; };
            if (computed(v) <= computed(best)) best = v;
        }
        return best;
    }();
    static constexpr std::size_t blocks = (output_vectors + vectors_per_block - 1) / vectors_per_block;
    // Each filter's plane of outputs, OutHeight x OutWidth; the last vector
    // may run past it (discarded: planes are this far apart), and the last
    // block's extra vectors recompute the last one.
    static constexpr std::size_t plane_stride = output_vectors * lanes;
    static constexpr std::size_t filters_per_block = direct::filters_per_block(vectors_per_block);
    // The last vector reads up to a vector past its plane; the slack is zero.
    static constexpr std::size_t input_size = by_rows ? padded_size : G::kernel_width * G::channels * copy_plane + lanes;

    // Where output vector v starts in the input (relative to the tap's
    // offset) and in the plane.
    struct Place {
        std::size_t input, output;
    };
    static constexpr Place place(std::size_t v) {
        const std::size_t q = std::min(v, output_vectors - 1) * lanes;
        if constexpr (by_rows) return {q / G::out_width * padded_width + q % G::out_width, q};
        return {q, q};
    }
    static constexpr std::size_t workspace_size = input_size + G::filters * plane_stride;

    // Where kernel tap (c, kh, kw), numbered as in a filter's weights, reads
    // the padded image relative to the output pixel's position.
    static constexpr std::size_t tap_offset(std::size_t tap) {
        const std::size_t c = tap / (G::kernel_height * G::kernel_width);
        const std::size_t kh = tap / G::kernel_width % G::kernel_height, kw = tap % G::kernel_width;
        return c * padded_plane + kh * padded_width + kw;
    }
    // The same in the input `arrange` writes.
    static constexpr std::size_t source_offset(std::size_t c, std::size_t kh, std::size_t kw) {
        if constexpr (by_rows) return c * padded_plane + kh * padded_width + kw;
        return (kw * G::channels + c) * copy_plane + kh * G::out_width;
    }

    // The sample, zero-padded, at `padded` (padded_size floats); its channel
    // c starts at x + c * channel_stride.
    static void pad(const float* x, float* padded, std::size_t channel_stride = G::height * G::width) {
        std::fill_n(padded, padded_size, 0.0f);
        const std::size_t columns = std::min(G::width, padded_width - G::pad_left);
        const std::size_t rows = std::min(G::height, padded_height - G::pad_top);
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t h = 0; h < rows; ++h)
                std::copy_n(x + c * channel_stride + h * G::width, columns,
                            padded + c * padded_plane + (h + G::pad_top) * padded_width + G::pad_left);
    }

    // The sample as the kernels read it (input_size floats): padded, or as
    // shifted copies, copy kw's row h of channel c the padded row's
    // OutWidth columns from kw on.
    static void arrange(const float* x, float* input, std::size_t channel_stride = G::height * G::width) {
        if constexpr (by_rows) {
            pad(x, input, channel_stride);
        } else {
            for (std::size_t kw = 0; kw < G::kernel_width; ++kw) {
                // Columns [left, right) of each row come from x, from its column left + kw - PadLeft.
                const std::size_t left = std::min(G::out_width, G::pad_left > kw ? G::pad_left - kw : 0);
                const std::size_t right =
                    std::clamp<std::size_t>(G::width + G::pad_left > kw ? G::width + G::pad_left - kw : 0, left, G::out_width);
                for (std::size_t c = 0; c < G::channels; ++c)
                    for (std::size_t h = 0; h < padded_height; ++h) {
                        float* row = input + (kw * G::channels + c) * copy_plane + h * G::out_width;
                        if (h < G::pad_top || h - G::pad_top >= G::height) {
                            std::fill_n(row, G::out_width, 0.0f);
                            continue;
                        }
                        std::fill_n(row, left, 0.0f);
                        std::copy(x + c * channel_stride + (h - G::pad_top) * G::width + left + kw - G::pad_left,
                                  x + c * channel_stride + (h - G::pad_top) * G::width + right + kw - G::pad_left,
                                  row + left);
                        std::fill(row + right, row + G::out_width, 0.0f);
                    }
            }
            std::fill_n(input + G::kernel_width * G::channels * copy_plane, lanes, 0.0f);
        }
    }

#if CTNN_CPU_DIRECT_KERNELS
    // Filters [f, f + FR) over output vectors [block * VR, (block + 1) * VR).
    template <std::size_t FR>
    static void block(const float* kernel, const float* input, float* planes, std::size_t f, std::size_t block) {
        constexpr std::size_t VR = vectors_per_block;
        Place at[VR];
        for (std::size_t v = 0; v < VR; ++v) at[v] = place(block * VR + v);
        vector sum[FR][VR];
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t v = 0; v < VR; ++v) sum[i][v] = zero();
        const float* weights = kernel + f * G::patch;
        for (std::size_t c = 0, tap = 0; c < G::channels; ++c)
            for (std::size_t kh = 0; kh < G::kernel_height; ++kh)
                for (std::size_t kw = 0; kw < G::kernel_width; ++kw, ++tap) {
                    const float* in = input + source_offset(c, kh, kw);
                    vector x[VR];
                    for (std::size_t v = 0; v < VR; ++v) x[v] = load(in + at[v].input);
                    for (std::size_t i = 0; i < FR; ++i) {
                        const float w = weights[i * G::patch + tap];
                        for (std::size_t v = 0; v < VR; ++v) sum[i][v] = multiply_add(x[v], w, sum[i][v]);
                    }
                }
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t v = 0; v < VR; ++v) store(planes + (f + i) * plane_stride + at[v].output, sum[i][v]);
    }
#endif

    // Filters [first, last) of one arranged sample into `planes` (plane f at
    // f * plane_stride). `first` is a multiple of filters_per_block, and so
    // is `last` unless it is the end.
    static void convolve(const float* kernel, const float* input, float* planes, std::size_t first,
                         std::size_t last) {
#if CTNN_CPU_DIRECT_KERNELS
        constexpr std::size_t FR = filters_per_block, tail = G::filters % FR;
        std::size_t f = first;
        for (; f + FR <= last; f += FR)
            for (std::size_t b = 0; b < blocks; ++b) block<FR>(kernel, input, planes, f, b);
        if constexpr (tail > 0)
            if (f < last)
                for (std::size_t b = 0; b < blocks; ++b) block<tail>(kernel, input, planes, f, b);
#else
        (void)kernel, (void)input, (void)planes, (void)first, (void)last;
#endif
    }
};

// The sum of n floats in 8 interleaved partial sums, added in a fixed order:
// one chain of additions does not vectorise (the im2col path's bias
// gradients were 3% of the CIFAR CNN's training step on a Zen 3).
inline float run_sum(const float* values, std::size_t n) {
    constexpr std::size_t width = 8;
    float lane[width] = {};
    std::size_t i = 0;
    for (; i + width <= n; i += width)
        for (std::size_t j = 0; j < width; ++j) lane[j] += values[i + j];
    for (std::size_t j = 0; i + j < n; ++j) lane[j] += values[i + j];
    return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

// bias (add: +=) each filter's sum over `count` samples' dz (filter planes,
// a sample's G::output_size floats after the one before).
template <class G>
void add_bias_sums(const float* dz, std::size_t count, float* bias, bool add) {
    for (std::size_t f = 0; f < G::filters; ++f) {
        float sum = 0.0f;
        for (std::size_t i = 0; i < count; ++i) sum += run_sum(dz + i * G::output_size + f * G::pixels, G::pixels);
        bias[f] = add ? bias[f] + sum : sum;
    }
}

// The kernel and bias gradients from the `used` threads' partial sums
// (kernel, then bias; thread t's `stride` floats after thread 0's), added in
// thread order: results depend on the thread count, not on timing. Weight
// j (the bias's after the kernel's) is at place(j) in a thread's sums: a
// driver that keeps them in another order says where.
template <class G, class Place = std::identity>
void add_partials(const float* partials, std::size_t stride, std::size_t used, float* kernel_gradient,
                  float* bias_gradient, Place place = {}) {
    parallel_for(G::kernel_size + G::filters, parallel_grain, [=](std::size_t first, std::size_t last) {
        for (std::size_t j = first; j < last; ++j) {
            const std::size_t at = place(j);
            float sum = partials[at];
            for (std::size_t t = 1; t < used; ++t) sum += partials[t * stride + at];
            if (j < G::kernel_size)
                kernel_gradient[j] = sum;
            else
                bias_gradient[j - G::kernel_size] = sum;
        }
    });
}

// The driver (what ChunkedConvolution hands the forward passes of stride-1
// float convolutions to; their backward passes are LanesBackward's). Each
// thread arranges and convolves its share of the batch a sample at a time; a
// batch smaller than the team (batch-1 inference) is split by blocks of
// filters instead, each thread arranging the sample itself (no barrier to
// wait at: seed 003's CNN at batch 1 took 62.4 us against 63.4, best of
// 20,000, on a Zen 3).
template <class G>
class DirectConvolution {
    using Image = Plan<G>;

public:
    // Where it beats im2col and OpenBLAS: every stride-1 layer of the seed
    // models, on a Zen 3 (AVX2) and a Zen 4 (AVX-512), 2 threads. Seed
    // 003's CNN at batch 1 on the Zen 4, its 1-channel first layer direct
    // too: 52.6 us against 55.5 with that layer on im2col (and 84.6 before
    // the shifted copies, when its second layer's vectors ran through the
    // padded width and discarded a third of the outputs). 1x1 and 2x2
    // kernels stay GEMMs: there arranging the input is most of the work.
    static constexpr bool forward_applies = [] {
        if constexpr (enabled && G::stride_height == 1 && G::stride_width == 1)
            return G::kernel_height * G::kernel_width >= 9 || G::patch >= 32;
        return false;
    }();

private:
    static constexpr std::size_t stride = whole_lines(Image::workspace_size);
    static float* area_of(float* workspace, std::size_t thread) { return workspace + thread * stride; }

public:
    static std::size_t workspace_size() { return thread_count() * stride; }

    template <class Sink>
    static void forward(const float* kernel, const float* x, float* y, std::size_t batch, float* workspace,
                        const Sink& sink) {
        static_assert(forward_applies);
        constexpr std::size_t per_block = Image::filters_per_block;
        constexpr std::size_t filter_blocks = (G::filters + per_block - 1) / per_block;
        const bool by_filters = batch < thread_count();
        for (std::size_t sample = 0; sample < (by_filters ? batch : 1); ++sample)
            parallel_threads([&](std::size_t thread, std::size_t threads) {
                float* input = area_of(workspace, thread);
                float* planes = input + Image::input_size;
                const Share filters = by_filters ? share_of(filter_blocks, thread, threads) : Share{0, filter_blocks};
                const Share samples = by_filters ? Share{sample, sample + 1} : share_of(batch, thread, threads);
                const std::size_t first = filters.begin * per_block,
                                  last = std::min(G::filters, filters.end * per_block);
                if (first >= last) return;
                for (std::size_t s = samples.begin; s < samples.end; ++s) {
                    Image::arrange(x + s * G::input_size, input);
                    Image::convolve(kernel, input, planes, first, last);
                    for (std::size_t f = first; f < last; ++f)
                        sink.forward(planes + f * Image::plane_stride, s * G::filters + f, y);
                }
            });
    }
};

} // namespace ctnn::backend::cpu::direct
