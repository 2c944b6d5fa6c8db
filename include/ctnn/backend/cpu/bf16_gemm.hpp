// Matrix products in bfloat16 with float accumulation: the CPU backend's
// opt-in mixed-precision mode (backend/cpu/backend.hpp, Precision::bf16).
//
// Both operands are rounded to bf16 (round to nearest even) while they are
// packed, the products are summed in float, and the result is float: the
// weights, their gradients and the optimizer's state stay float ("master
// weights"), only the inputs of each product lose their last 16 bits.
//
// Two kernels over one packed layout:
// - AMX (Sapphire Rapids and later): TDPBF16PS multiplies a 16x32 tile of A
//   by a 32x16 tile of B into a 16x16 float tile, 16 times the multiply-adds
//   per instruction of an AVX-512 FMA.
// - AVX512-BF16 (Zen 4, Cooper Lake): VDPBF16PS, two multiply-adds per float
//   lane, twice an FMA's.
// CPUs with neither run float products only; supported() says which.
//
// Packed layout, the one TDPBF16PS reads: k is cut into chunks of 32 (16
// pairs); A into tiles of 16 rows, each tile row the 32 bf16 of one row's
// chunk; B into tiles of 16 columns, each tile row one pair of k for the 16
// columns, the pair's two values side by side ("VNNI" order). Sizes are
// padded with zeros to whole tiles, and to pairs of tiles so that the AMX
// kernel always holds a 2x2 block of C.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#if defined(__x86_64__) && !defined(__CUDACC__) && (defined(__clang__) || __GNUC__ >= 11)
#define CTNN_BF16_KERNELS 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ctnn/backend/cpu/parallel.hpp"

namespace ctnn::backend::cpu::bf16 {

enum class Kernel { none, avx512_bf16, amx };

inline const char* kernel_name(Kernel kernel) {
    return kernel == Kernel::amx ? "AMX" : kernel == Kernel::avx512_bf16 ? "AVX512-BF16" : "none";
}

// Float to bf16, rounding to nearest even, as VCVTNE2PS2BF16 does (NaNs stay
// NaN). Tests use it to build the exact reference.
inline std::uint16_t round_to_bf16(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return std::uint16_t(bits >> 16);
}
inline float bf16_to_float(std::uint16_t value) {
    const std::uint32_t bits = std::uint32_t(value) << 16;
    float result;
    std::memcpy(&result, &bits, sizeof result);
    return result;
}

#if defined(CTNN_BF16_KERNELS)

namespace detail {

// What this CPU runs: CPUID, and for AMX the kernel's permission to use the
// tile registers (Linux enables them per process, on request).
inline Kernel detect() {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return Kernel::none;
    const bool avx512 = (ebx >> 16 & 1) && (ebx >> 30 & 1) && (ebx >> 31 & 1);  // F, BW, VL
    const bool amx = (edx >> 22 & 1) && (edx >> 24 & 1);                         // AMX-BF16, tiles
    unsigned leaf1_eax = 0, unused;
    __get_cpuid_count(7, 1, &leaf1_eax, &unused, &unused, &unused);
    const bool avx512_bf16 = avx512 && (leaf1_eax >> 5 & 1);
    // The OS must save the AVX-512 and tile state (XCR0), else the
    // instructions fault. OSXSAVE is leaf 1's bit (leaf 7's bit 27 is
    // MOVDIRI, which Sapphire Rapids has and Zen 4 lacks).
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    if (!(ecx >> 27 & 1)) return Kernel::none;  // no OSXSAVE, no XGETBV
    unsigned xcr0_low, xcr0_high;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    const bool os_avx512 = (xcr0_low & 0xe6u) == 0xe6u;
    if (!avx512_bf16 || !os_avx512) return Kernel::none;
    // CTNN_BF16_KERNEL=avx512_bf16 keeps an AMX CPU on the other kernel
    // (its tests and benchmark rows).
    const char* chosen = std::getenv("CTNN_BF16_KERNEL");
    if (chosen && std::string_view(chosen) == "avx512_bf16") return Kernel::avx512_bf16;
    constexpr long request_permission = 0x1023, tile_data = 18;  // ARCH_REQ_XCOMP_PERM, XTILEDATA
    if (amx && syscall(SYS_arch_prctl, request_permission, tile_data) == 0) return Kernel::amx;
    return Kernel::avx512_bf16;
}

#define CTNN_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define CTNN_AMX_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

using Block = std::uint32_t[16][16];  // 16 rows of 16 bf16 pairs: one tile

// 32 floats from p, those past `count` zero, as 16 pairs in order.
CTNN_AVX512_BF16 inline __m512i pairs_along(const float* p, std::size_t count) {
    const __mmask16 low = count >= 16 ? 0xffff : __mmask16((1u << count) - 1);
    const __mmask16 high = count >= 32 ? 0xffff : count <= 16 ? 0 : __mmask16((1u << (count - 16)) - 1);
    const __m512 lo = _mm512_maskz_loadu_ps(low, p), hi = _mm512_maskz_loadu_ps(high, p + 16);
    return __m512i(_mm512_cvtne2ps_pbh(hi, lo));
}

// Two rows of 16 floats (the second may be absent), those past `count` zero,
// interleaved into 16 pairs (row0[x], row1[x]).
CTNN_AVX512_BF16 inline __m512i pairs_across(const float* row0, const float* row1, std::size_t count) {
    const __mmask16 mask = count >= 16 ? 0xffff : __mmask16((1u << count) - 1);
    const __m512 first = _mm512_maskz_loadu_ps(mask, row0);
    const __m512 second = row1 ? _mm512_maskz_loadu_ps(mask, row1) : _mm512_setzero_ps();
    // cvtne2ps puts `first` in the low 16 halves and `second` in the high 16.
    const __m512i halves = __m512i(_mm512_cvtne2ps_pbh(second, first));
    alignas(64) static constexpr std::uint16_t order[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                            21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                            11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    return _mm512_permutexvar_epi16(_mm512_load_si512(order), halves);
}

// A matrix M(x, p) in floats, p the summed index, stored with p contiguous
// (M(x, p) = data[x * ld + p]) or x contiguous (data[p * ld + x]).
struct Operand {
    const float* data;
    std::size_t ld;
    bool p_contiguous;
    std::size_t xs, ps;  // sizes
};

// A 16x16 block of 32-bit values, transposed in four rounds of two-source
// permutes: round b swaps bit b of the row index with bit b of the column
// index, so after the four every element has moved from (r, c) to (c, r).
// (Not the unpack instructions: GCC 12 warns inside their intrinsics.)
struct TransposeIndices {
    alignas(64) std::uint32_t low[4][16], high[4][16];
    constexpr TransposeIndices() : low{}, high{} {
        for (std::uint32_t b = 0; b < 4; ++b)
            for (std::uint32_t c = 0; c < 16; ++c) {
                const std::uint32_t d = 1u << b;
                // Row r (bit b clear) takes, where column c has bit b set, row
                // r + d's element c - d; row r + d, where c has it clear, row
                // r's element c + d. 16 + i picks the second row's element i.
                low[b][c] = c & d ? 16 + (c & ~d) : c;
                high[b][c] = c & d ? 16 + c : c | d;
            }
    }
};
inline constexpr TransposeIndices transpose_indices{};

CTNN_AVX512_BF16 inline void transpose_16x16(const std::uint32_t* in, std::uint32_t* out) {
    __m512i rows[16];
    for (int i = 0; i < 16; ++i) rows[i] = _mm512_load_si512(in + 16 * i);
    for (int b = 0; b < 4; ++b) {
        const int d = 1 << b;
        const __m512i low = _mm512_load_si512(transpose_indices.low[b]);
        const __m512i high = _mm512_load_si512(transpose_indices.high[b]);
        for (int r = 0; r < 16; ++r) {
            if (r & d) continue;
            const __m512i first = rows[r], second = rows[r + d];
            rows[r] = _mm512_permutex2var_epi32(first, low, second);
            rows[r + d] = _mm512_permutex2var_epi32(first, high, second);
        }
    }
    for (int i = 0; i < 16; ++i) _mm512_storeu_si512(out + 16 * i, rows[i]);
}

// One 16 x 32 block of M, from x0 and p0, as bf16 pairs: block[x][pair]
// when `pairs_per_row`, block[pair][x] otherwise, padded with zeros.
CTNN_AVX512_BF16 inline void pack_block(const Operand& m, std::size_t x0, std::size_t p0,
                                        bool pairs_per_row, std::uint32_t* out) {
    const std::size_t x_count = m.xs > x0 ? std::min<std::size_t>(16, m.xs - x0) : 0;
    const std::size_t p_count = m.ps > p0 ? std::min<std::size_t>(32, m.ps - p0) : 0;
    // The loads give [x][pair] when p is contiguous, else [pair][x].
    const bool direct = m.p_contiguous == pairs_per_row;
    alignas(64) Block staged;
    std::uint32_t* rows = direct ? out : &staged[0][0];
    if (m.p_contiguous) {
        for (std::size_t x = 0; x < 16; ++x)
            _mm512_storeu_si512(rows + 16 * x, x < x_count
                                                   ? pairs_along(m.data + (x0 + x) * m.ld + p0, p_count)
                                                   : _mm512_setzero_si512());
    } else {
        for (std::size_t q = 0; q < 16; ++q) {
            const std::size_t p = 2 * q;
            __m512i row = _mm512_setzero_si512();
            if (p < p_count && x_count > 0)
                row = pairs_across(m.data + (p0 + p) * m.ld + x0,
                                   p + 1 < p_count ? m.data + (p0 + p + 1) * m.ld + x0 : nullptr, x_count);
            _mm512_storeu_si512(rows + 16 * q, row);
        }
    }
    if (!direct) transpose_16x16(&staged[0][0], out);
}

// Tiles of 16 along x (padded to `x_tiles`), each `chunks` blocks of 512
// bf16 pairs' worth along p: tile t's chunk c starts at (t * chunks + c) * 256.
// The loops follow memory: along a row's p when p is contiguous, across the
// rows' x otherwise.
CTNN_AVX512_BF16 inline void pack(const Operand& m, std::size_t tile_begin, std::size_t tile_end,
                                  std::size_t chunks, bool pairs_per_row, std::uint32_t* out) {
    auto block = [&](std::size_t t, std::size_t c) {
        pack_block(m, 16 * t, 32 * c, pairs_per_row, out + ((t - tile_begin) * chunks + c) * 256);
    };
    if (m.p_contiguous) {
        for (std::size_t t = tile_begin; t < tile_end; ++t)
            for (std::size_t c = 0; c < chunks; ++c) block(t, c);
    } else {
        for (std::size_t c = 0; c < chunks; ++c)
            for (std::size_t t = tile_begin; t < tile_end; ++t) block(t, c);
    }
}

// C[i][j] = alpha * tile[i][j] + beta * C[i][j] for the part of a tile of
// 16-float rows inside C (beta 0 never reads C: it may hold NaNs).
CTNN_AVX512_BF16 inline void write_tile(const float* tile, float alpha, float beta, float* c,
                                        std::size_t ldc, std::size_t rows, std::size_t cols) {
    const __mmask16 mask = cols >= 16 ? 0xffff : __mmask16((1u << cols) - 1);
    const __m512 scale = _mm512_set1_ps(alpha), keep = _mm512_set1_ps(beta);
    for (std::size_t i = 0; i < rows; ++i) {
        __m512 value = _mm512_mul_ps(scale, _mm512_load_ps(tile + i * 16));
        if (beta != 0.0f) value = _mm512_fmadd_ps(keep, _mm512_maskz_loadu_ps(mask, c + i * ldc), value);
        _mm512_mask_storeu_ps(c + i * ldc, mask, value);
    }
}

struct Product {
    const std::uint32_t* a;  // packed A: m_tiles x chunks blocks
    const std::uint32_t* b;  // packed B: n_tiles x chunks blocks
    std::size_t m_tiles, n_tiles, chunks;
    std::size_t m, n;  // C's extent from this product's origin
    float alpha, beta;
    float* c;
    std::size_t ldc;
};

// 2x2 tiles at a time: tiles 0-3 hold C, 4-5 A, 6-7 B.
CTNN_AMX_BF16 inline void multiply_amx(const Product& p) {
    struct alignas(64) {
        std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
        std::uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
        std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
    } config;
    _tile_loadconfig(&config);
    alignas(64) float tile[16][16];
    const std::size_t block = p.chunks * 256;
    for (std::size_t nt = 0; nt < p.n_tiles; nt += 2)
        for (std::size_t mt = 0; mt < p.m_tiles; mt += 2) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            const std::uint32_t* a0 = p.a + mt * block;
            const std::uint32_t* b0 = p.b + nt * block;
            for (std::size_t ch = 0; ch < p.chunks; ++ch) {
                _tile_loadd(4, a0 + ch * 256, 64);
                _tile_loadd(5, a0 + block + ch * 256, 64);
                _tile_loadd(6, b0 + ch * 256, 64);
                _tile_loadd(7, b0 + block + ch * 256, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            // A whole tile inside C that needs no scaling goes straight to C.
            // (A macro: the tile register in _tile_stored must be a constant.)
            const bool plain = p.alpha == 1.0f && p.beta == 0.0f;
#define CTNN_EMIT_TILE(t, row_tile, col_tile)                                                      \
    {                                                                                               \
        const std::size_t i0 = 16 * (row_tile), j0 = 16 * (col_tile);                             \
        if (plain && i0 + 16 <= p.m && j0 + 16 <= p.n) {                                            \
            _tile_stored(t, p.c + i0 * p.ldc + j0, p.ldc * sizeof(float));                          \
        } else if (i0 < p.m && j0 < p.n) {                                                          \
            _tile_stored(t, tile, 64);                                                              \
            write_tile(&tile[0][0], p.alpha, p.beta, p.c + i0 * p.ldc + j0, p.ldc,                  \
                       std::min<std::size_t>(16, p.m - i0), std::min<std::size_t>(16, p.n - j0));   \
        }                                                                                           \
    }
            CTNN_EMIT_TILE(0, mt, nt)
            CTNN_EMIT_TILE(1, mt, nt + 1)
            CTNN_EMIT_TILE(2, mt + 1, nt)
            CTNN_EMIT_TILE(3, mt + 1, nt + 1)
#undef CTNN_EMIT_TILE
        }
    _tile_release();
}

// Eight rows of A by two tiles of B at a time: 16 accumulators.
CTNN_AVX512_BF16 inline void multiply_avx512(const Product& p) {
    alignas(64) float tile[8][16];
    const std::size_t block = p.chunks * 256;
    for (std::size_t nt = 0; nt < p.n_tiles; nt += 2)
        for (std::size_t mt = 0; mt < p.m_tiles; ++mt) {
            const std::uint32_t* a = p.a + mt * block;
            const std::uint32_t* b = p.b + nt * block;
            for (std::size_t half = 0; half < 16; half += 8) {
                __m512 sum[8][2];
                for (auto& row : sum) row[0] = row[1] = _mm512_setzero_ps();
                for (std::size_t ch = 0; ch < p.chunks; ++ch)
                    for (std::size_t q = 0; q < 16; ++q) {
                        const __m512bh b0 = __m512bh(_mm512_loadu_si512(b + ch * 256 + q * 16));
                        const __m512bh b1 = __m512bh(_mm512_loadu_si512(b + block + ch * 256 + q * 16));
                        for (std::size_t r = 0; r < 8; ++r) {
                            const __m512bh pair = __m512bh(_mm512_set1_epi32(int(a[ch * 256 + (half + r) * 16 + q])));
                            sum[r][0] = _mm512_dpbf16_ps(sum[r][0], pair, b0);
                            sum[r][1] = _mm512_dpbf16_ps(sum[r][1], pair, b1);
                        }
                    }
                for (std::size_t half_of_b = 0; half_of_b < 2; ++half_of_b) {
                    for (std::size_t r = 0; r < 8; ++r) _mm512_store_ps(tile[r], sum[r][half_of_b]);
                    const std::size_t i0 = 16 * mt + half, j0 = 16 * (nt + half_of_b);
                    if (i0 >= p.m || j0 >= p.n) continue;
                    write_tile(&tile[0][0], p.alpha, p.beta,
                               p.c + i0 * p.ldc + j0, p.ldc, std::min<std::size_t>(8, p.m - i0),
                               std::min<std::size_t>(16, p.n - j0));
                }
            }
        }
}

} // namespace detail

inline Kernel kernel() {
    static const Kernel detected = detail::detect();
    return detected;
}

#else

inline Kernel kernel() { return Kernel::none; }

#endif

inline bool supported() { return kernel() != Kernel::none; }

#if defined(CTNN_BF16_KERNELS)

// Row-major C = alpha op(A) op(B) + beta C, as cblas_sgemm, in bf16 products
// summed in float. Needs supported(). Outside a thread team the threads split
// the larger of C's two extents; inside one (the convolution's per-thread
// chunks) the caller's thread does all of it.
inline void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k,
                 float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                 float beta, float* c, std::size_t ldc) {
    const detail::Operand left{a, lda, !transpose_a, m, k}, right{b, ldb, transpose_b, n, k};
    const std::size_t chunks = (k + 31) / 32;
    const std::size_t m_tiles = (m + 31) / 32 * 2, n_tiles = (n + 31) / 32 * 2;
    const bool split_rows = m_tiles > n_tiles;
    const Kernel use = kernel();
    parallel_threads([&](std::size_t thread, std::size_t threads) {
        // Tile pairs of the split extent this thread takes.
        const Share pairs = share_of((split_rows ? m_tiles : n_tiles) / 2, thread, threads);
        if (pairs.begin == pairs.end) return;
        const std::size_t first = 2 * pairs.begin, last = 2 * pairs.end;
        const std::size_t my_m_tiles = split_rows ? last - first : m_tiles;
        const std::size_t my_n_tiles = split_rows ? n_tiles : last - first;
        // Per-thread packing space, kept between calls: no allocation once
        // the largest product has run.
        thread_local std::vector<std::uint32_t> packed;
        const std::size_t a_size = my_m_tiles * chunks * 256, b_size = my_n_tiles * chunks * 256;
        if (packed.size() < a_size + b_size) packed.resize(a_size + b_size);
        std::uint32_t* packed_a = packed.data();
        std::uint32_t* packed_b = packed_a + a_size;
        const std::size_t a_first = split_rows ? first : 0, b_first = split_rows ? 0 : first;
        detail::pack(left, a_first, a_first + my_m_tiles, chunks, true, packed_a);
        detail::pack(right, b_first, b_first + my_n_tiles, chunks, false, packed_b);
        const std::size_t i0 = 16 * a_first, j0 = 16 * b_first;
        const detail::Product product{packed_a, packed_b, my_m_tiles, my_n_tiles, chunks,
                                      m - std::min(m, i0), n - std::min(n, j0), alpha, beta,
                                      c + i0 * ldc + j0, ldc};
        if (use == Kernel::amx)
            detail::multiply_amx(product);
        else
            detail::multiply_avx512(product);
    });
}

#undef CTNN_AVX512_BF16
#undef CTNN_AMX_BF16

#else

inline void gemm(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                 const float*, std::size_t, float, float*, std::size_t) {}

#endif

} // namespace ctnn::backend::cpu::bf16
