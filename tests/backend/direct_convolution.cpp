// The CPU's own stride-1 convolution (backend/cpu/direct_convolution.hpp,
// and the backward pass of lanes_backward.hpp) against the definition, in
// double: the forward pass by samples and, for a batch smaller than the
// team, by blocks of filters, its input by rows or as shifted copies; the
// input gradient (the channels across the lanes, or the GEMM); the kernel
// and bias gradients, over batches that fill several chunks. Geometries
// cover the register blockings and the filter tails the plan picks, the
// seed models' layers, rectangular kernels and "same" padding that is
// larger after than before. Winograd's F(2x2, 3x3) and F(2x2, 5x5),
// forward and backward (winograd.hpp, winograd_backward.hpp), likewise,
// where the backend takes them. Also built as an AVX2 program
// (tests/CMakeLists.txt), so that an AVX-512 host tests both vector widths.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/backend/cpu/backend.hpp>
#include <ctnn/core/random.hpp>

namespace backend_direct_convolution_test {

using ctnn::backend::cpu::ChunkedConvolution;
namespace direct = ctnn::backend::cpu::direct;

// Hands the convolution's planes over unchanged: y = z, dz = dy.
struct Identity {
    std::size_t pixels;
    void forward(const float* z, std::size_t plane, float* y) const {
        for (std::size_t p = 0; p < pixels; ++p) y[plane * pixels + p] = z[p];
    }
    void backward(const float* dy, const float*, std::size_t plane, float* dz) const {
        for (std::size_t p = 0; p < pixels; ++p) dz[p] = dy[plane * pixels + p];
    }
};

template <class G>
double input_at(const std::vector<float>& x, std::size_t n, std::size_t c, long h, long w) {
    if (h < 0 || w < 0 || h >= long(G::height) || w >= long(G::width)) return 0.0;
    return x[((n * G::channels + c) * G::height + std::size_t(h)) * G::width + std::size_t(w)];
}

// A product of the sums below, or with Magnitudes its absolute value: the
// sums of magnitudes that the rounding of Winograd's transforms scales with.
template <bool Magnitudes>
double product(double a, double b) {
    return Magnitudes ? std::abs(a * b) : a * b;
}

template <class G, bool Magnitudes = false>
std::vector<double> defined_forward(const std::vector<float>& kernel, const std::vector<float>& x, std::size_t batch) {
    std::vector<double> y(batch * G::output_size);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t oh = 0; oh < G::out_height; ++oh)
                for (std::size_t ow = 0; ow < G::out_width; ++ow) {
                    double sum = 0.0;
                    for (std::size_t c = 0; c < G::channels; ++c)
                        for (std::size_t kh = 0; kh < G::kernel_height; ++kh)
                            for (std::size_t kw = 0; kw < G::kernel_width; ++kw)
                                sum += product<Magnitudes>(
                                    kernel[((f * G::channels + c) * G::kernel_height + kh) * G::kernel_width + kw],
                                    input_at<G>(x, n, c, long(oh + kh) - long(G::pad_top),
                                                long(ow + kw) - long(G::pad_left)));
                    y[((n * G::filters + f) * G::out_height + oh) * G::out_width + ow] = sum;
                }
    return y;
}

// dx[n][c][h][w] = sum over f, kh, kw of dz[n][f][h + pad_top - kh][w + pad_left - kw] * kernel[f][c][kh][kw].
template <class G, bool Magnitudes = false>
std::vector<double> defined_input_gradient(const std::vector<float>& kernel, const std::vector<float>& dz,
                                           std::size_t batch) {
    std::vector<double> dx(batch * G::input_size);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t c = 0; c < G::channels; ++c)
            for (std::size_t h = 0; h < G::height; ++h)
                for (std::size_t w = 0; w < G::width; ++w) {
                    double sum = 0.0;
                    for (std::size_t f = 0; f < G::filters; ++f)
                        for (std::size_t kh = 0; kh < G::kernel_height; ++kh)
                            for (std::size_t kw = 0; kw < G::kernel_width; ++kw) {
                                const long oh = long(h + G::pad_top) - long(kh), ow = long(w + G::pad_left) - long(kw);
                                if (oh < 0 || ow < 0 || oh >= long(G::out_height) || ow >= long(G::out_width))
                                    continue;
                                sum += product<Magnitudes>(
                                    kernel[((f * G::channels + c) * G::kernel_height + kh) * G::kernel_width + kw],
                                    dz[((n * G::filters + f) * G::out_height + std::size_t(oh)) * G::out_width +
                                       std::size_t(ow)]);
                            }
                    dx[((n * G::channels + c) * G::height + h) * G::width + w] = sum;
                }
    return dx;
}

// kernel_gradient[f][c][kh][kw] = the sum over samples and outputs of dz[n][f][oh][ow] * x[n][c][oh + kh - pad][...];
// then the bias gradient, the sum of dz per filter.
template <class G, bool Magnitudes = false>
std::vector<double> defined_parameter_gradient(const std::vector<float>& x, const std::vector<float>& dz,
                                               std::size_t batch) {
    std::vector<double> gradient(G::kernel_size + G::filters);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t oh = 0; oh < G::out_height; ++oh)
                for (std::size_t ow = 0; ow < G::out_width; ++ow) {
                    const double d = dz[((n * G::filters + f) * G::out_height + oh) * G::out_width + ow];
                    gradient[G::kernel_size + f] += Magnitudes ? std::abs(d) : d;
                    for (std::size_t c = 0; c < G::channels; ++c)
                        for (std::size_t kh = 0; kh < G::kernel_height; ++kh)
                            for (std::size_t kw = 0; kw < G::kernel_width; ++kw)
                                gradient[((f * G::channels + c) * G::kernel_height + kh) * G::kernel_width + kw] +=
                                    product<Magnitudes>(d, input_at<G>(x, n, c, long(oh + kh) - long(G::pad_top),
                                                                       long(ow + kw) - long(G::pad_left)));
                }
    return gradient;
}

// Within 1e-4 relative (or absolute, near zero); with the sums of the
// products' magnitudes (Winograd's paths), also 1e-5 of those: its
// transforms round to about 1e-6 of them (F(2x2, 5x5); the direct sums
// and F(2x2, 3x3) to about 1e-7).
template <class Got>
void check_close(const Got& got, const std::vector<double>& expected, const std::vector<double>& magnitudes = {}) {
    REQUIRE(got.size() == expected.size());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        wrong += std::abs(got[i] - expected[i]) >
                 1e-4 * (1.0 + std::abs(expected[i])) + (magnitudes.empty() ? 0.0 : 1e-5 * magnitudes[i]);
    CHECK(wrong == 0);
}

// The kernels themselves, whichever path the backend picks for G.
template <class G>
void check_kernels(const std::vector<float>& kernel, const std::vector<float>& x, const std::vector<float>& dy,
                   std::size_t batch) {
    if constexpr (direct::enabled) {
        using Image = direct::Plan<G>;
        std::vector<float> input(Image::input_size), planes(G::filters * Image::plane_stride), y;
        for (std::size_t n = 0; n < batch; ++n) {
            Image::arrange(x.data() + n * G::input_size, input.data());
            Image::convolve(kernel.data(), input.data(), planes.data(), 0, G::filters);
            for (std::size_t f = 0; f < G::filters; ++f)
                y.insert(y.end(), planes.begin() + long(f * Image::plane_stride),
                         planes.begin() + long(f * Image::plane_stride + G::pixels));
        }
        check_close(y, defined_forward<G>(kernel, x, batch));

        std::vector<double> expected = defined_parameter_gradient<G>(x, dy, batch);
        expected.resize(G::kernel_size);

        // With the filters across the lanes, and the input gradient with the
        // channels across them (lanes_backward.hpp).
        using Lanes = direct::FilterLanesGradient<G>;
        std::vector<float> prepared(batch * Lanes::sample_size), partial(Lanes::partial_size),
            gradient(G::kernel_size);
        for (std::size_t n = 0; n < batch; ++n)
            Lanes::prepare(x.data() + n * G::input_size, dy.data() + n * G::output_size, G::pixels,
                           prepared.data() + n * Lanes::sample_size);
        Lanes::accumulate(prepared.data(), 1, partial.data(), false);
        Lanes::accumulate(prepared.data() + Lanes::sample_size, batch - 1, partial.data(), true);
        for (std::size_t f = 0; f < G::filters; ++f)
            for (std::size_t tap = 0; tap < G::patch; ++tap)
                gradient[f * G::patch + tap] = partial[tap * Lanes::padded_filters + f];
        check_close(gradient, expected);

        using Input = direct::ChannelLanesInputGradient<G>;
        std::vector<float> packed(Input::packed_size), area(Input::area_size), dx(batch * G::input_size);
        for (std::size_t tap = 0; tap < Input::taps; ++tap) Input::pack(kernel.data(), packed.data(), tap);
        for (std::size_t n = 0; n < batch; ++n)
            Input::input_gradient(packed.data(), dy.data() + n * G::output_size, area.data(),
                                  dx.data() + n * G::input_size);
        check_close(dx, defined_input_gradient<G>(kernel, dy, batch));
    }
}

// A backward pass, run(dx, kernel_gradient, bias_gradient), against the
// definition; run without dx (a first layer), the same parameter gradients.
template <class G, bool Winograd, class Run>
void check_backward(const std::vector<float>& kernel, const std::vector<float>& x, const std::vector<float>& dy,
                    std::size_t batch, Run&& run) {
    std::vector<float> dx(batch * G::input_size), kernel_gradient(G::kernel_size), bias_gradient(G::filters);
    run(dx.data(), kernel_gradient.data(), bias_gradient.data());
    check_close(dx, defined_input_gradient<G>(kernel, dy, batch),
                Winograd ? defined_input_gradient<G, true>(kernel, dy, batch) : std::vector<double>{});
    std::vector<float> gradients(kernel_gradient);
    gradients.insert(gradients.end(), bias_gradient.begin(), bias_gradient.end());
    check_close(gradients, defined_parameter_gradient<G>(x, dy, batch),
                Winograd ? defined_parameter_gradient<G, true>(x, dy, batch) : std::vector<double>{});

    std::vector<float> again(G::kernel_size), bias_again(G::filters);
    run(nullptr, again.data(), bias_again.data());
    CHECK(again == kernel_gradient);
    CHECK(bias_again == bias_gradient);
}

template <class G>
void check_geometry(std::size_t batch) {
    CAPTURE(G::channels);
    CAPTURE(G::filters);
    CAPTURE(G::out_width);
    CAPTURE(batch);
    ctnn::Rng rng(G::filters * 31 + G::channels);
    std::vector<float> kernel(G::kernel_size), x(batch * G::input_size), dy(batch * G::output_size);
    // Scaled as an initializer scales them: check_winograd says why.
    const float scale = 1.0f / std::sqrt(float(G::patch));
    for (float& v : kernel) v = rng.uniform(-scale, scale);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : dy) v = rng.uniform(-1.0f, 1.0f);
    check_kernels<G>(kernel, x, dy, batch);

    const ctnn::backend::Cpu cpu;
    const Identity sink{G::pixels};
    using Convolution = ChunkedConvolution<G>;
    ctnn::backend::cpu::AlignedVector<float> workspace(Convolution::workspace_size());

    constexpr bool winograd = ctnn::backend::cpu::winograd::Winograd<G>::applies;
    std::vector<float> y(batch * G::output_size);
    Convolution::forward(cpu, kernel.data(), x.data(), y.data(), batch, workspace.data(), sink, true);
    check_close(y, defined_forward<G>(kernel, x, batch),
                winograd ? defined_forward<G, true>(kernel, x, batch) : std::vector<double>{});
    check_backward<G, winograd>(kernel, x, dy, batch, [&](float* dx, float* kernel_gradient, float* bias_gradient) {
        Convolution::backward(cpu, kernel.data(), x.data(), y.data(), dy.data(), dx, kernel_gradient, bias_gradient,
                              batch, workspace.data(), sink, true);
    });
}

// Stride 1; the output size follows from the padding before and after.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t KH, std::size_t KW,
          std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right>
using Geometry = ctnn::convolution::Geometry<C, H, W, F, KH, KW, 1, 1, Top, Left, H + Top + Bottom - KH + 1,
                                             W + Left + Right - KW + 1>;

// Where the backend takes the direct forward pass (direct_convolution.hpp
// says why): all but 1x1 and 2x2 kernels with few channels.
static_assert(direct::DirectConvolution<Geometry<1, 28, 28, 45, 5, 5, 0, 0, 0, 0>>::forward_applies == direct::enabled);
static_assert(direct::DirectConvolution<Geometry<64, 8, 8, 128, 5, 5, 2, 2, 2, 2>>::forward_applies == direct::enabled);
static_assert(!direct::DirectConvolution<Geometry<3, 4, 4, 17, 1, 1, 0, 0, 0, 0>>::forward_applies);
// The backward pass of a layer whose forward pass is Winograd's in the
// same transformed space (winograd_backward.hpp), "valid" or "same".
static_assert(ctnn::backend::cpu::winograd::Backward<Geometry<45, 12, 12, 60, 5, 5, 0, 0, 0, 0>>::applies ==
              direct::enabled);
static_assert(ctnn::backend::cpu::winograd::Backward<Geometry<32, 16, 16, 64, 5, 5, 2, 2, 2, 2>>::applies ==
              direct::enabled);
// Vectors by rows where the output rows are whole vectors; through shifted
// copies otherwise.
static_assert(direct::Plan<Geometry<64, 8, 8, 128, 5, 5, 2, 2, 2, 2>>::by_rows == (direct::lanes == 8));
static_assert(direct::Plan<Geometry<32, 16, 16, 64, 5, 5, 2, 2, 2, 2>>::by_rows);
static_assert(!direct::Plan<Geometry<32, 14, 42, 64, 3, 3, 1, 1, 1, 1>>::by_rows);
// An 8x8 plane is four AVX-512 vectors (or eight AVX2 ones): none discarded.
static_assert(direct::Plan<Geometry<45, 12, 12, 60, 5, 5, 0, 0, 0, 0>>::output_vectors * direct::lanes == 64);

TEST_CASE("direct convolution: the seed models' layers against the definition") {
    for (std::size_t batch : {1, 2, 5}) {
        check_geometry<Geometry<1, 28, 28, 45, 5, 5, 0, 0, 0, 0>>(batch);   // seed 003, valid
        check_geometry<Geometry<45, 12, 12, 60, 5, 5, 0, 0, 0, 0>>(batch);  // its second layer
        check_geometry<Geometry<3, 32, 32, 32, 5, 5, 2, 2, 2, 2>>(batch);   // seed 004, padding 2
        check_geometry<Geometry<64, 8, 8, 128, 5, 5, 2, 2, 2, 2>>(batch);
        check_geometry<Geometry<32, 14, 42, 64, 3, 3, 1, 1, 1, 1>>(batch);  // the number reader, "same"
    }
}

TEST_CASE("direct convolution: filter tails, small planes, rectangular kernels, uneven padding") {
    for (std::size_t batch : {1, 3, 40}) {
        check_geometry<Geometry<2, 5, 5, 1, 3, 3, 1, 1, 1, 1>>(batch);     // one filter
        check_geometry<Geometry<3, 7, 5, 7, 3, 3, 1, 1, 1, 1>>(batch);     // a tail of filters
        check_geometry<Geometry<2, 6, 9, 23, 3, 2, 1, 1, 0, 1>>(batch);    // 3x2 kernel, "same" padded right only
        check_geometry<Geometry<4, 6, 6, 5, 2, 2, 0, 1, 0, 1>>(batch);     // even kernel, "same"
        check_geometry<Geometry<3, 4, 4, 17, 1, 1, 0, 0, 0, 0>>(batch);    // 1x1
        check_geometry<Geometry<2, 3, 20, 9, 3, 3, 2, 2, 2, 2>>(batch);    // output larger than the input
    }
}

// Winograd's F(2x2, 3x3) and F(2x2, 5x5) (backend/cpu/winograd.hpp) on
// their own, on one thread and on the team: odd output sizes (the dropped
// row and column), rows of tiles that are not whole vectors, "valid" and
// "same" padding, and batches of several chunks; the forward pass, and the
// backward pass with and without dx. The tolerance allows for
// F(2x2, 5x5)'s rounding (check_close), and the kernels are scaled as an
// initializer scales them (1 / sqrt(patch)).
template <class G>
void check_winograd(std::size_t batch) {
    using Winograd = ctnn::backend::cpu::winograd::Winograd<G>;
    static_assert(Winograd::applies == direct::enabled);
    CAPTURE(G::kernel_height);
    CAPTURE(G::out_height);
    CAPTURE(G::out_width);
    CAPTURE(batch);
    ctnn::Rng rng(G::filters * 7 + G::width);
    std::vector<float> kernel(G::kernel_size), x(batch * G::input_size), dy(batch * G::output_size);
    const float scale = 1.0f / std::sqrt(float(G::patch));
    for (float& v : kernel) v = rng.uniform(-scale, scale);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : dy) v = rng.uniform(-1.0f, 1.0f);
    const ctnn::backend::Cpu cpu;
    const Identity sink{G::pixels};
    using Backward = ctnn::backend::cpu::winograd::Backward<G>;
    ctnn::backend::cpu::AlignedVector<float> workspace(std::max(Winograd::workspace_size(), Backward::workspace_size()));
    std::vector<float> y(batch * G::output_size);
    Winograd::forward(cpu, kernel.data(), x.data(), y.data(), batch, workspace.data(), sink);
    check_close(y, defined_forward<G>(kernel, x, batch), defined_forward<G, true>(kernel, x, batch));
    check_backward<G, true>(kernel, x, dy, batch, [&](float* dx, float* kernel_gradient, float* bias_gradient) {
        Backward::backward(cpu, kernel.data(), x.data(), y.data(), dy.data(), dx, kernel_gradient, bias_gradient,
                           batch, workspace.data(), sink);
    });
}

TEST_CASE("Winograd F(2x2, 3x3) and F(2x2, 5x5): odd sizes, partial vectors of tiles, padding, several chunks") {
    if constexpr (direct::enabled) {
        for (std::size_t batch : {1, 2, 7}) {
            check_winograd<Geometry<16, 7, 9, 16, 3, 3, 1, 1, 1, 1>>(batch);     // odd, "same"
            check_winograd<Geometry<16, 12, 12, 20, 3, 3, 0, 0, 0, 0>>(batch);   // "valid", 10x10
            check_winograd<Geometry<17, 5, 37, 19, 3, 3, 1, 1, 1, 1>>(batch);    // 19 tiles a row
            check_winograd<Geometry<32, 14, 42, 64, 3, 3, 1, 1, 1, 1>>(batch);   // the number reader
        }
        check_winograd<Geometry<16, 4, 4, 16, 3, 3, 1, 1, 1, 1>>(40);  // 4 tiles a sample: chunks of 16
        for (std::size_t batch : {1, 2, 7}) {
            check_winograd<Geometry<45, 12, 12, 60, 5, 5, 0, 0, 0, 0>>(batch);  // seed 003's second layer
            check_winograd<Geometry<64, 8, 8, 128, 5, 5, 2, 2, 2, 2>>(batch);   // seed 004's third
            check_winograd<Geometry<16, 9, 11, 17, 5, 5, 2, 2, 2, 2>>(batch);   // odd, "same"
            check_winograd<Geometry<16, 6, 41, 16, 5, 5, 1, 2, 2, 1>>(batch);   // 19 tiles a row, uneven padding
        }
        check_winograd<Geometry<16, 4, 4, 16, 5, 5, 2, 2, 2, 2>>(40);  // 4 tiles a sample: chunks of 16
        // Through the backend, with the backward pass beside it.
        for (std::size_t batch : {2, 7}) {
            check_geometry<Geometry<16, 7, 9, 16, 3, 3, 1, 1, 1, 1>>(batch);
            check_geometry<Geometry<20, 5, 37, 17, 3, 3, 1, 1, 1, 1>>(batch);
            check_geometry<Geometry<32, 16, 16, 64, 5, 5, 2, 2, 2, 2>>(batch);  // seed 004's second layer
        }
    }
}

} // namespace backend_direct_convolution_test
