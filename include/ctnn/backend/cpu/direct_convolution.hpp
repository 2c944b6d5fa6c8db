// The CPU's own stride-1 convolution, without im2col: outputs, input
// gradient and kernel gradient computed straight from the zero-padded image.
//
// With stride 1, output pixel (oh, ow) of filter f reads input pixels
// (oh + kh, ow + kw) of the padded image, Hp x Wp: a vector of outputs
// along a row reads, for every kernel tap (c, kh, kw), one contiguous run
// of the padded channel, shifted. So a block of FR filters x VR vectors of
// outputs is FR * VR accumulators in registers, and each tap costs VR
// unaligned loads, FR broadcast weights and FR * VR fused multiply-adds: no
// unfolded columns written and read back, no packing by a GEMM library.
// The vectors cover the outputs in one of two ways, whichever computes
// fewer (Plan::by_rows):
// - by rows: each output row in vectors, the last shifted back to end at
//   OutWidth (it recomputes a few outputs); nothing is discarded when the
//   width is a multiple of the vector's (8x8 and 16x16 planes with AVX2);
// - through the padded width: output q = oh * Wp + ow reads input
//   q + kh * Wp + kw, so vectors run on across rows (planes narrower than a
//   vector); the outputs in the columns ow >= OutWidth are discarded and
//   the planes compacted to OutWidth columns for the sink. The input
// gradient is the same kernel over dz with the kernel turned
// (InputGradient), the kernel gradient a register-blocked sum over the same
// shifted runs (KernelGradient).
//
// The register blocking and the tails are chosen from the static shapes; the
// vectors are AVX-512's 16 floats or AVX2's 8 (with FMA), whichever the
// target has. Without either, `enabled` is false and the backend keeps
// im2col and GEMM; DirectConvolution says where each direction is used.
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
#include <immintrin.h>
#else
#define CTNN_CPU_DIRECT_KERNELS 0
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
    // The vectors that cover the outputs: by rows, or through the padded
    // width's rows (the comment at the top says how each works).
    static constexpr std::size_t row_vectors = (G::out_width + lanes - 1) / lanes;
    static constexpr std::size_t padded_width_vectors = (G::out_height * padded_width + lanes - 1) / lanes;
    static constexpr bool by_rows =
        G::out_width >= lanes && G::out_height * row_vectors <= padded_width_vectors;
    static constexpr std::size_t output_vectors = by_rows ? G::out_height * row_vectors : padded_width_vectors;
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
    // Each filter's plane of outputs. Through the padded width: whole
    // blocks (the last block's extra outputs land here and are discarded).
    // By rows, the last block's extra vectors recompute the last one.
    static constexpr std::size_t plane_stride =
        by_rows ? (G::out_height * G::out_width + lanes - 1) / lanes * lanes : blocks * vectors_per_block * lanes;
    static constexpr std::size_t filters_per_block = direct::filters_per_block(vectors_per_block);
    // Through the padded width, a block at the end of the outputs reads up
    // to a block past the last padded plane; the slack after it is zero.
    static constexpr std::size_t input_size = G::channels * padded_plane + vectors_per_block * lanes + G::kernel_width;

    // Where output vector v starts in the padded channel and in the plane.
    struct Place {
        std::size_t input, output;
    };
    static constexpr Place place(std::size_t v) {
        if constexpr (by_rows) {
            v = std::min(v, output_vectors - 1);
            const std::size_t oh = v / row_vectors, ow = std::min(v % row_vectors * lanes, G::out_width - lanes);
            return {oh * padded_width + ow, oh * G::out_width + ow};
        }
        return {v * lanes, v * lanes};
    }
    static constexpr std::size_t workspace_size = input_size + G::filters * plane_stride;

    // Where kernel tap (c, kh, kw), numbered as in a filter's weights, reads
    // the padded image relative to the output pixel's position.
    static constexpr std::size_t tap_offset(std::size_t tap) {
        const std::size_t c = tap / (G::kernel_height * G::kernel_width);
        const std::size_t kh = tap / G::kernel_width % G::kernel_height, kw = tap % G::kernel_width;
        return c * padded_plane + kh * padded_width + kw;
    }

    // The sample, zero-padded, at `padded` (input_size floats); its channel
    // c starts at x + c * channel_stride.
    static void pad(const float* x, float* padded, std::size_t channel_stride = G::height * G::width) {
        std::fill_n(padded, input_size, 0.0f);
        const std::size_t columns = std::min(G::width, padded_width - G::pad_left);
        const std::size_t rows = std::min(G::height, padded_height - G::pad_top);
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t h = 0; h < rows; ++h)
                std::copy_n(x + c * channel_stride + h * G::width, columns,
                            padded + c * padded_plane + (h + G::pad_top) * padded_width + G::pad_left);
    }

#if CTNN_CPU_DIRECT_KERNELS
    // Filters [f, f + FR) over output vectors [block * VR, (block + 1) * VR).
    template <std::size_t FR>
    static void block(const float* kernel, const float* padded, float* planes, std::size_t f, std::size_t block) {
        constexpr std::size_t VR = vectors_per_block;
        Place at[VR];
        for (std::size_t v = 0; v < VR; ++v) at[v] = place(block * VR + v);
        vector sum[FR][VR];
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t v = 0; v < VR; ++v) sum[i][v] = zero();
        const float* weights = kernel + f * G::patch;
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t kh = 0; kh < G::kernel_height; ++kh)
                for (std::size_t kw = 0; kw < G::kernel_width; ++kw) {
                    const std::size_t tap = (c * G::kernel_height + kh) * G::kernel_width + kw;
                    const float* in = padded + c * padded_plane + kh * padded_width + kw;
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

    // Filters [first, last) of one padded sample into `planes` (plane f at
    // f * plane_stride, compacted to OutHeight x OutWidth). `first` is a
    // multiple of filters_per_block, and so is `last` unless it is the end.
    static void convolve(const float* kernel, const float* padded, float* planes, std::size_t first,
                         std::size_t last) {
#if CTNN_CPU_DIRECT_KERNELS
        constexpr std::size_t FR = filters_per_block, tail = G::filters % FR;
        std::size_t f = first;
        for (; f + FR <= last; f += FR)
            for (std::size_t b = 0; b < blocks; ++b) block<FR>(kernel, padded, planes, f, b);
        if constexpr (tail > 0)
            if (f < last)
                for (std::size_t b = 0; b < blocks; ++b) block<tail>(kernel, padded, planes, f, b);
        if constexpr (!by_rows)
            for (f = first; f < last; ++f) {
                float* plane = planes + f * plane_stride;
                for (std::size_t oh = 1; oh < G::out_height; ++oh)
                    std::memmove(plane + oh * G::out_width, plane + oh * padded_width, G::out_width * sizeof(float));
            }
#else
        (void)kernel, (void)padded, (void)planes, (void)first, (void)last;
#endif
    }
};

// The kernel gradient of a stride-1 convolution: kernel_gradient[f][c][kh][kw]
// is the sum over samples and outputs q (in padded-width rows) of dz[f][q] *
// padded[c][q + kh * Wp + kw], so each tap is again a shifted run of the
// padded image. A block of FR filters x TR taps keeps FR * TR vectors of
// partial sums in registers over every output of a chunk of samples; each
// vector of outputs costs FR + TR loads for FR * TR multiply-adds, and the
// vectors are summed across their lanes once per block and chunk. Where
// the output rows are whole vectors, the vectors go by rows and dz stays as
// it is; otherwise through the padded width, dz widened to it, zero in the
// columns the forward discards.
template <class G>
struct KernelGradient {
    using Image = Plan<G>;
    static constexpr std::size_t padded_width = Image::padded_width;
    static constexpr bool by_rows = Image::by_rows && G::out_width % lanes == 0;
    static constexpr std::size_t plane =
        by_rows ? G::pixels : (G::out_height * padded_width + lanes - 1) / lanes * lanes;
    // The vectors of a dz plane: `rows` runs of `run` vectors, a run's
    // image rows padded_width apart (by rows) or one run (through the width).
    static constexpr std::size_t rows = by_rows ? G::out_height : 1;
    static constexpr std::size_t run = by_rows ? G::out_width / lanes : plane / lanes;
    static constexpr std::size_t dz_row = run * lanes, image_row = by_rows ? padded_width : 0;
    static constexpr std::size_t image_size = whole_lines(Image::input_size);
    // One prepared sample: its padded image, then its widened dz planes.
    static constexpr std::size_t sample_size = image_size + G::filters * plane;
    static constexpr std::size_t filters_per_block = registers == 32 ? 4 : 2;
    static constexpr std::size_t taps_per_block = 6;

    static void prepare(const float* x, const float* dz, float* sample) {
        Image::pad(x, sample);
        float* wide = sample + image_size;
        if constexpr (by_rows) {
            std::copy_n(dz, G::filters * plane, wide);
        } else {
            std::fill_n(wide, G::filters * plane, 0.0f);
            for (std::size_t f = 0; f < G::filters; ++f)
                for (std::size_t oh = 0; oh < G::out_height; ++oh)
                    std::copy_n(dz + (f * G::out_height + oh) * G::out_width, G::out_width,
                                wide + f * plane + oh * padded_width);
        }
    }

#if CTNN_CPU_DIRECT_KERNELS
    template <std::size_t FR, std::size_t TR>
    static void block(const float* samples, std::size_t count, std::size_t f, std::size_t tap, float* gradient,
                      bool add) {
        std::size_t offset[TR];
        for (std::size_t t = 0; t < TR; ++t) offset[t] = Image::tap_offset(tap + t);
        vector sum[FR][TR];
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t t = 0; t < TR; ++t) sum[i][t] = zero();
        for (std::size_t n = 0; n < count; ++n) {
            const float* image = samples + n * sample_size;
            const float* wide = image + image_size + f * plane;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t q = 0; q < dz_row; q += lanes) {
                    vector d[FR];
                    for (std::size_t i = 0; i < FR; ++i) d[i] = load(wide + i * plane + r * dz_row + q);
                    for (std::size_t t = 0; t < TR; ++t) {
                        const vector in = load(image + offset[t] + r * image_row + q);
                        for (std::size_t i = 0; i < FR; ++i) sum[i][t] = multiply_add(d[i], in, sum[i][t]);
                    }
                }
        }
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t t = 0; t < TR; ++t) {
                float& out = gradient[(f + i) * G::patch + tap + t];
                out = add ? out + sum_of(sum[i][t]) : sum_of(sum[i][t]);
            }
    }

#endif

    // gradient (filters x patch) = (add: +=) the sum over `count` prepared samples.
    static void accumulate(const float* samples, std::size_t count, float* gradient, bool add) {
#if CTNN_CPU_DIRECT_KERNELS
        for_tiles<G::filters, filters_per_block, G::patch, taps_per_block>(
            [&]<std::size_t FR, std::size_t TR>(std::size_t f, std::size_t tap) {
                block<FR, TR>(samples, count, f, tap, gradient, add);
            });
#else
        (void)samples, (void)count, (void)gradient, (void)add;
#endif
    }
};

// The input gradient of a stride-1 convolution is itself one: dx = dz,
// padded by KernelHeight - 1 - PadTop (and so on), convolved with the
// kernel turned by 180 degrees and its filters and channels swapped. It
// exists where every padding is at most the kernel's extent minus one, and
// pays where the output is as large as the input ("same" padding): for a
// "valid" convolution most of the turned kernel's taps fall on the zeros
// around dz (2.25 times the products of a GEMM for a 5x5 kernel over 12x12).
template <class G>
struct InputGradient {
    static constexpr std::size_t pad_bottom = G::out_height + G::kernel_height - 1 - G::height - G::pad_top;
    static constexpr std::size_t pad_right = G::out_width + G::kernel_width - 1 - G::width - G::pad_left;
    static constexpr bool exists = G::stride_height == 1 && G::stride_width == 1 &&
                                   G::pad_top < G::kernel_height && G::pad_left < G::kernel_width &&
                                   G::out_height + G::kernel_height - 1 >= G::height + G::pad_top &&
                                   G::out_width + G::kernel_width - 1 >= G::width + G::pad_left &&
                                   pad_bottom < G::kernel_height && pad_right < G::kernel_width;
    static constexpr bool pays = exists && G::out_height * G::out_width >= G::height * G::width;
    using Geometry =
        convolution::Geometry<G::filters, G::out_height, G::out_width, G::channels, G::kernel_height,
                              G::kernel_width, 1, 1, G::kernel_height - 1 - G::pad_top,
                              G::kernel_width - 1 - G::pad_left, G::height, G::width>;

    // turned[c][f][kh][kw] = kernel[f][c][KH - 1 - kh][KW - 1 - kw].
    static void turn(const float* kernel, float* turned) {
        constexpr std::size_t taps = G::kernel_height * G::kernel_width;
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t c = 0; c < G::channels; ++c)
                for (std::size_t t = 0; t < taps; ++t)
                    turned[(c * G::filters + f) * taps + t] = kernel[(f * G::channels + c) * taps + taps - 1 - t];
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

// The driver (what ChunkedConvolution hands stride-1 float convolutions to).
// Forward: each thread pads and convolves its share of the batch a sample
// at a time; a batch smaller than the team (batch-1 inference) is split by
// blocks of filters instead, each thread padding the sample itself (no
// barrier to wait at: seed 003's CNN at batch 1 took 62.4 us against 63.4,
// best of 20,000, on a Zen 3). Backward:
// each thread prepares a chunk of its samples (padded image, widened dz; about
// 1 MiB, so that the kernel gradient's blocks find them in the core's L2),
// writes their input gradients, then adds the chunk's kernel gradient to its
// partial sums; the partial sums of the threads are added in thread order,
// so results depend on the thread count but not on timing.
template <class G>
class DirectConvolution {
    using Image = Plan<G>;
    using Turned = InputGradient<G>;

public:
    // Where each direction beats im2col and OpenBLAS (bench: per layer of the
    // seed models): forward once a tap's loop is long enough, or where the
    // output rows are whole vectors (nothing computed is discarded). Through
    // the padded width, a 1-channel 5x5 layer at batch 1 was 0.85x (AVX-512,
    // one thread) and the seed CNNs' others 1.1-1.6x; by rows, with AVX2 on
    // a Zen 3 (2 threads), 1.5-1.7x for seed 003's 1-channel first layer
    // (24 columns, 3 vectors) and 1.2-1.6x for the CIFAR CNN's layers.
    // Backward for "same" convolutions with several channels and output
    // planes of 128 or more padded-width pixels (1.1-1.2x, AVX-512). Over an
    // 8x8 output AVX-512's vectors go through the padded width, a third of
    // them the discarded columns, and the kernel gradient is 0.75x. With AVX2
    // (a Zen 3) the backward pass is 0.75-1.05x even by rows: the backward
    // is AVX-512's only, and elsewhere LanesBackward's (lanes_backward.hpp).
    static constexpr bool forward_applies = [] {
        if constexpr (enabled && G::stride_height == 1 && G::stride_width == 1)
            return G::patch >= 32 || (Image::by_rows && G::out_width % lanes == 0);
        return false;
    }();
    static constexpr bool backward_applies = [] {
        if constexpr (enabled && lanes == 16 && Turned::pays)
            return G::channels >= 8 && G::out_height * Image::padded_width >= 128;
        return false;
    }();

private:
    using Gradient = KernelGradient<G>;
    using TurnedPlan = Plan<typename Turned::Geometry>;
    static constexpr std::size_t chunk = std::clamp<std::size_t>(262144 / Gradient::sample_size, 1, 16);
    // The turned kernel, shared, first; then each thread's area: for the
    // forward pass Image's, for backward the prepared samples, their dz, the
    // partial sums and the turned convolution's area.
    static constexpr std::size_t turned_size = backward_applies ? whole_lines(G::kernel_size) : 0;
    static constexpr std::size_t dz_offset = chunk * Gradient::sample_size;
    static constexpr std::size_t partial_offset = dz_offset + whole_lines(chunk * G::output_size);
    static constexpr std::size_t partial_size = G::kernel_size + G::filters;
    static constexpr std::size_t dx_offset = partial_offset + whole_lines(partial_size);
    static constexpr std::size_t dx_size = [] {
        if constexpr (backward_applies) return TurnedPlan::workspace_size;
        return std::size_t{0};
    }();
    static constexpr std::size_t stride =
        whole_lines(std::max(forward_applies ? Image::workspace_size : 0, backward_applies ? dx_offset + dx_size : 0));
    static float* area_of(float* workspace, std::size_t thread) { return workspace + turned_size + thread * stride; }

    // dx of one sample from its dz (filters x pixels).
    static void input_gradient(const float* turned, const float* dz, float* dx, float* area) {
        float* planes = area + TurnedPlan::input_size;
        TurnedPlan::pad(dz, area);
        TurnedPlan::convolve(turned, area, planes, 0, G::channels);
        for (std::size_t c = 0; c < G::channels; ++c)
            std::copy_n(planes + c * TurnedPlan::plane_stride, G::height * G::width, dx + c * G::height * G::width);
    }

public:
    static std::size_t workspace_size() { return turned_size + thread_count() * stride; }

    template <class Sink>
    static void forward(const float* kernel, const float* x, float* y, std::size_t batch, float* workspace,
                        const Sink& sink) {
        static_assert(forward_applies);
        constexpr std::size_t per_block = Image::filters_per_block;
        constexpr std::size_t filter_blocks = (G::filters + per_block - 1) / per_block;
        const bool by_filters = batch < thread_count();
        for (std::size_t sample = 0; sample < (by_filters ? batch : 1); ++sample)
            parallel_threads([&](std::size_t thread, std::size_t threads) {
                float* padded = area_of(workspace, thread);
                float* planes = padded + Image::input_size;
                const Share filters = by_filters ? share_of(filter_blocks, thread, threads) : Share{0, filter_blocks};
                const Share samples = by_filters ? Share{sample, sample + 1} : share_of(batch, thread, threads);
                const std::size_t first = filters.begin * per_block,
                                  last = std::min(G::filters, filters.end * per_block);
                if (first >= last) return;
                for (std::size_t s = samples.begin; s < samples.end; ++s) {
                    Image::pad(x + s * G::input_size, padded);
                    Image::convolve(kernel, padded, planes, first, last);
                    for (std::size_t f = first; f < last; ++f)
                        sink.forward(planes + f * Image::plane_stride, s * G::filters + f, y);
                }
            });
    }

    // Writes the kernel and bias gradients, and dx unless it is null.
    template <class Sink>
    static void backward(const float* kernel, const float* x, const float* y, const float* dy, float* dx,
                         float* kernel_gradient, float* bias_gradient, std::size_t batch, float* workspace,
                         const Sink& sink) {
        static_assert(backward_applies);
        if (dx) Turned::turn(kernel, workspace);
        std::size_t used = 0;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            if (thread == 0) used = std::min(threads, batch);
            float* area = area_of(workspace, thread);
            float* dz = area + dz_offset;
            float* partial = area + partial_offset;
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first);
                const bool first_chunk = first == mine.begin;
                for (std::size_t i = 0; i < count; ++i) {
                    const std::size_t s = first + i;
                    float* sample_dz = dz + i * G::output_size;
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.backward(dy, y, s * G::filters + f, sample_dz + f * G::pixels);
                    Gradient::prepare(x + s * G::input_size, sample_dz, area + i * Gradient::sample_size);
                    if (dx) input_gradient(workspace, sample_dz, dx + s * G::input_size, area + dx_offset);
                }
                Gradient::accumulate(area, count, partial, !first_chunk);
                add_bias_sums<G>(dz, count, partial + G::kernel_size, !first_chunk);
            }
        });
        add_partials<G>(area_of(workspace, 0) + partial_offset, stride, used, kernel_gradient, bias_gradient);
    }
};

} // namespace ctnn::backend::cpu::direct
