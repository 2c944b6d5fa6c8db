// The backward pass of a stride-1 convolution with a BLAS micro-kernel's
// register blocking and no unfolded columns: the filters or the channels
// across the vector lanes, the other operand broadcast straight from the
// image or from dz.
//
// - Kernel gradient (FilterLanesGradient): kernel_gradient[f][tap] is the
//   sum over samples and output pixels p of dz[f][p] * padded[c][p +
//   offset(tap)] (offset: kh rows and kw columns into the zero-padded image).
//   Turned pixel-major, dz gives a vector of filters per pixel; the image
//   gives one value per pixel and tap, broadcast. A block of FR filter
//   vectors x TR taps keeps FR * TR accumulators in registers; each pixel
//   costs FR aligned loads and TR broadcasts for FR * TR multiply-adds
//   (AVX2: 16 filters x 6 taps, as a BLAS kernel's 16 x 6 tile).
// - Input gradient (ChannelLanesInputGradient): the GEMM columns' = W^T dz and
//   its col2im in one pass. For each kernel tap (kh, kw), a block of CR
//   channel vectors x PR output pixels sums W[f][c][kh][kw] * dz[f][p] over
//   the filters in registers, then adds itself to dx at the pixels (oh + kh,
//   ow + kw) of the padded plane, pixel-major. The products are exactly the
//   GEMM's; the forward kernel over dz with the kernel turned by 180 degrees
//   computes 2.25 times as many for a "valid" 5x5 layer over 12x12.
//
// Over the lanes of the output pixels instead each tap is an unaligned load
// and a block ends in sums across the lanes: on a Zen 3 (AVX2, 2 threads)
// that kernel gradient ran at ~105 GFLOPS against ~125 for im2col +
// OpenBLAS. These kernels run at 83-94 GFLOPS on one of its cores
// (OpenBLAS's large sgemm: ~90), and the backward passes of the seed and
// CIFAR CNNs' layers 1.1-1.4x faster than im2col + OpenBLAS. On a Zen 4
// (AVX-512, 2 threads) they also beat the turned forward kernel with the
// kernel gradient over the output lanes for the "same" layers: the CIFAR
// CNN's training step 1.10-1.17x, examples/fashion_cnn.cpp's 1.14-1.16x.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/backend/cpu/direct_convolution.hpp"


namespace ctnn::backend::cpu::direct {


// The kernel gradient, filters across the lanes.
template <class G>
struct FilterLanesGradient {
    using Image = Plan<G>;
    static constexpr std::size_t padded_filters = (G::filters + lanes - 1) / lanes * lanes;
    static constexpr std::size_t filter_vectors = padded_filters / lanes;
    // FR filter vectors x TR taps of accumulators, FR loads and one broadcast
    // in the registers left.
    static constexpr std::size_t filter_vectors_per_block = 2;
    static constexpr std::size_t taps_per_block = (registers - filter_vectors_per_block - 2) / filter_vectors_per_block;
    static constexpr std::size_t image_size = whole_lines(Image::padded_size);
    // One prepared sample: its padded image, then dz pixel-major, each
    // pixel's filters padded with zeros to whole vectors.
    static constexpr std::size_t sample_size = image_size + G::pixels * padded_filters;
    // The sums, tap-major: partial[tap * padded_filters + f].
    static constexpr std::size_t partial_size = G::patch * padded_filters;

    // Pads the sample's image and turns its dz planes (filter f's at
    // dz + f * filter_stride) pixel-major.
    static void prepare(const float* x, const float* dz, std::size_t filter_stride, float* sample) {
        Image::pad(x, sample);
        float* turned = sample + image_size;
        // Through the registers in 8 x 8 blocks (direct::transpose): a copy
        // of one float at a time cost half as long as the products for a
        // 1-channel first layer.
        transpose<G::filters>(dz, filter_stride, G::pixels, turned, padded_filters);
        if constexpr (padded_filters > G::filters)
            for (std::size_t p = 0; p < G::pixels; ++p)
                std::fill(turned + p * padded_filters + G::filters, turned + (p + 1) * padded_filters, 0.0f);
    }

#if CTNN_CPU_DIRECT_KERNELS
    // Filter vectors [first, first + FR) x taps [tap, tap + TR).
    template <std::size_t FR, std::size_t TR>
    static void block(const float* samples, std::size_t count, std::size_t first, std::size_t tap,
                      float* partial, bool add) {
        std::size_t offset[TR];
        for (std::size_t t = 0; t < TR; ++t) offset[t] = Image::tap_offset(tap + t);
        float* out = partial + tap * padded_filters + first * lanes;
        vector sum[FR][TR];
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t t = 0; t < TR; ++t) sum[i][t] = add ? load(out + t * padded_filters + i * lanes) : zero();
        for (std::size_t n = 0; n < count; ++n) {
            const float* image = samples + n * sample_size;
            const float* d = image + image_size + first * lanes;
            for (std::size_t oh = 0; oh < G::out_height; ++oh) {
                const float* in = image + oh * Image::padded_width;
                for (std::size_t ow = 0; ow < G::out_width; ++ow, d += padded_filters, ++in) {
                    vector dv[FR];
                    for (std::size_t i = 0; i < FR; ++i) dv[i] = load(d + i * lanes);
                    for (std::size_t t = 0; t < TR; ++t) {
                        const vector b = broadcast(in + offset[t]);
                        for (std::size_t i = 0; i < FR; ++i) sum[i][t] = multiply_add(dv[i], b, sum[i][t]);
                    }
                }
            }
        }
        for (std::size_t i = 0; i < FR; ++i)
            for (std::size_t t = 0; t < TR; ++t) store(out + t * padded_filters + i * lanes, sum[i][t]);
    }

#endif

    // partial (add: +=) the sums over `count` prepared samples.
    static void accumulate(const float* samples, std::size_t count, float* partial, bool add) {
#if CTNN_CPU_DIRECT_KERNELS
        for_tiles<filter_vectors, filter_vectors_per_block, G::patch, taps_per_block>(
            [&]<std::size_t FR, std::size_t TR>(std::size_t first, std::size_t tap) {
                block<FR, TR>(samples, count, first, tap, partial, add);
            });
#else
        (void)samples, (void)count, (void)partial, (void)add;
#endif
    }
};

// The input gradient, channels across the lanes: per filter, CR loads of
// the packed kernel and PR broadcasts of dz.
template <class G>
struct ChannelLanesInputGradient {
    using Image = Plan<G>;
    static constexpr std::size_t taps = G::kernel_height * G::kernel_width;
    static constexpr std::size_t padded_channels = (G::channels + lanes - 1) / lanes * lanes;
    static constexpr std::size_t channel_vectors = padded_channels / lanes;
    static constexpr std::size_t channel_vectors_per_block = 2;
    static constexpr std::size_t pixels_per_block =
        (registers - channel_vectors_per_block - 2) / channel_vectors_per_block;
    // The kernel, tap-major: packed[(tap * F + f) * padded_channels + c].
    static constexpr std::size_t packed_size = taps * G::filters * padded_channels;
    // dx over the padded plane, pixel-major.
    static constexpr std::size_t area_size = Image::padded_plane * padded_channels;

    // The kernel's tap `tap` into `packed`.
    static void pack(const float* kernel, float* packed, std::size_t tap) {
        for (std::size_t f = 0; f < G::filters; ++f) {
            float* row = packed + (tap * G::filters + f) * padded_channels;
            for (std::size_t c = 0; c < G::channels; ++c) row[c] = kernel[(f * G::channels + c) * taps + tap];
            std::fill(row + G::channels, row + padded_channels, 0.0f);
        }
    }

#if CTNN_CPU_DIRECT_KERNELS
    // Channel vectors [first_vector, first_vector + CR) x output pixels
    // [first_pixel, first_pixel + PR), for one kernel tap.
    template <std::size_t CR, std::size_t PR>
    static void block(const float* packed, const float* dz, std::size_t tap, std::size_t first_vector,
                      std::size_t first_pixel, float* area) {
        const std::size_t kh = tap / G::kernel_width, kw = tap % G::kernel_width;
        vector sum[CR][PR];
        for (std::size_t i = 0; i < CR; ++i)
            for (std::size_t j = 0; j < PR; ++j) sum[i][j] = zero();
        const float* w = packed + tap * G::filters * padded_channels + first_vector * lanes;
        const float* d = dz + first_pixel;
        for (std::size_t f = 0; f < G::filters; ++f, w += padded_channels, d += G::pixels) {
            vector wv[CR];
            for (std::size_t i = 0; i < CR; ++i) wv[i] = load(w + i * lanes);
            for (std::size_t j = 0; j < PR; ++j) {
                const vector b = broadcast(d + j);
                for (std::size_t i = 0; i < CR; ++i) sum[i][j] = multiply_add(wv[i], b, sum[i][j]);
            }
        }
        for (std::size_t j = 0; j < PR; ++j) {
            const std::size_t p = first_pixel + j, oh = p / G::out_width, ow = p % G::out_width;
            float* out = area + ((oh + kh) * Image::padded_width + ow + kw) * padded_channels + first_vector * lanes;
            for (std::size_t i = 0; i < CR; ++i) store(out + i * lanes, add(load(out + i * lanes), sum[i][j]));
        }
    }

#endif

    // dx of one sample (channel planes of Height x Width) from its dz
    // (filter planes, G::pixels apart), through `area` (area_size floats).
    static void input_gradient(const float* packed, const float* dz, float* area, float* dx) {
#if CTNN_CPU_DIRECT_KERNELS
        std::fill_n(area, area_size, 0.0f);
        for (std::size_t tap = 0; tap < taps; ++tap)
            for_tiles<channel_vectors, channel_vectors_per_block, G::pixels, pixels_per_block>(
                [&]<std::size_t CR, std::size_t PR>(std::size_t first, std::size_t pixel) {
                    block<CR, PR>(packed, dz, tap, first, pixel, area);
                });
        constexpr std::size_t plane = G::height * G::width;
        for (std::size_t h = 0; h < G::height; ++h) {
            const float* row = area + ((h + G::pad_top) * Image::padded_width + G::pad_left) * padded_channels;
            transpose<G::width>(row, padded_channels, G::channels, dx + h * G::width, plane);
        }
#else
        (void)packed, (void)dz, (void)area, (void)dx;
#endif
    }
};

// Where the lanes backward pass applies: stride 1, on a target with the
// kernels, and every input pixel inside the padded plane.
template <class G>
inline constexpr bool lanes_backward_applies =
    enabled && G::stride_height == 1 && G::stride_width == 1 &&
    G::out_height + G::kernel_height - 1 >= G::height + G::pad_top &&
    G::out_width + G::kernel_width - 1 >= G::width + G::pad_left;

// The driver. The packed kernel, shared, first; then each thread's area: a
// chunk of samples' dz and the same samples prepared for the kernel
// gradient (about 1 MiB; 256 KiB and 512 KiB ran alike on a Zen 3), the
// padded dx of one sample, and the sums (kernel, tap-major, then bias). The
// chunk spreads the loads and stores of the sums over several samples: one
// sample at a time, seed 003's second layer's kernel gradient was 0.93x of
// im2col + OpenBLAS, against 1.17x by chunks. The threads' sums are added in thread order:
// results depend on the thread count, not on timing.
template <class G>
class LanesBackward {
    static_assert(lanes_backward_applies<G>);
    using Gradient = FilterLanesGradient<G>;
    using Input = ChannelLanesInputGradient<G>;
    static constexpr std::size_t chunk = std::clamp<std::size_t>(262144 / Gradient::sample_size, 1, 16);
    static constexpr std::size_t packed_size = whole_lines(Input::packed_size);
    static constexpr std::size_t samples_offset = whole_lines(chunk * G::output_size);
    static constexpr std::size_t dx_offset = samples_offset + chunk * Gradient::sample_size;
    static constexpr std::size_t partial_offset =
        dx_offset + whole_lines(Input::area_size);
    static constexpr std::size_t stride = whole_lines(partial_offset + Gradient::partial_size + G::filters);

public:
    static std::size_t workspace_size() { return packed_size + thread_count() * stride; }

    // Writes the kernel and bias gradients, and dx unless it is null.
    template <class Sink>
    static void backward(const float* kernel, const float* x, const float* y,
                         const float* dy, float* dx, float* kernel_gradient, float* bias_gradient,
                         std::size_t batch, float* workspace, const Sink& sink) {
        float* packed = workspace;
        std::size_t used = 0;
        parallel_threads([&](std::size_t thread, std::size_t threads) {
            if (thread == 0) used = std::min(threads, batch);
            if (dx) {
                const Share taps = share_of(Input::taps, thread, threads);
                for (std::size_t tap = taps.begin; tap < taps.end; ++tap) Input::pack(kernel, packed, tap);
                team_barrier();
            }
            float* dz = workspace + packed_size + thread * stride;
            float* samples = dz + samples_offset;
            float* area = dz + dx_offset;
            float* partial = dz + partial_offset;
            const Share mine = share_of(batch, thread, threads);
            for (std::size_t first = mine.begin; first < mine.end; first += chunk) {
                const std::size_t count = std::min(chunk, mine.end - first);
                const bool first_chunk = first == mine.begin;
                for (std::size_t i = 0; i < count; ++i) {
                    const std::size_t s = first + i;
                    float* sample_dz = dz + i * G::output_size;
                    for (std::size_t f = 0; f < G::filters; ++f)
                        sink.backward(dy, y, s * G::filters + f, sample_dz + f * G::pixels);
                    Gradient::prepare(x + s * G::input_size, sample_dz, G::pixels, samples + i * Gradient::sample_size);
                    if (dx) Input::input_gradient(packed, sample_dz, area, dx + s * G::input_size);
                }
                Gradient::accumulate(samples, count, partial, !first_chunk);
                add_bias_sums<G>(dz, count, partial + Gradient::partial_size, !first_chunk);
            }
        });
        // The kernel's sums are tap-major, the bias's after them.
        add_partials<G>(workspace + packed_size + partial_offset, stride, used, kernel_gradient, bias_gradient,
                        [](std::size_t j) {
                            return j < G::kernel_size ? j % G::patch * Gradient::padded_filters + j / G::patch
                                                      : Gradient::partial_size + (j - G::kernel_size);
                        });
    }
};

} // namespace ctnn::backend::cpu::direct
