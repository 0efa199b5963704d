// Register-blocked loops for CpuNet's narrow Linear layers (the paper's 3-16
// wide models). Every output element gets exactly the float operations, in
// the same order, of the plain loops they replace: a forward element is its
// bias, then fmadd over inputs 0..in-1; an input gradient starts at zero and
// takes fmadd over outputs 0..out-1; a weight gradient starts at zero and
// takes fmadd over samples 0..B-1. Only independent accumulators are blocked
// together (never a sum split), so float, double and F8 lanes stay bit for
// bit what they were. Activations are feature-major ([feature][batch]).
#pragma once
#include <cstddef>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "host/train/lane_math.hpp"
#include "host/train/simd_lanes.hpp"

namespace sca {

// Consecutive samples of T in one 256-bit register. F8 holds one sample
// (its eight lanes are eight models), so its "pack" is one F8.
template <class T>
struct SamplePack;

// float (8 samples) and double (4): a GCC vector of 32 bytes.
template <class E>
struct VectorPack {
    static constexpr int n = 32 / sizeof(E);
    typedef E V __attribute__((vector_size(32)));
    static V fma(V a, V b, V c) {
#if defined(__FMA__)
        if constexpr (std::is_same_v<E, float>) return __builtin_ia32_vfmaddps256(a, b, c);
        else return __builtin_ia32_vfmaddpd256(a, b, c);
#else
        for (int l = 0; l < n; ++l) c[l] = fmadd(a[l], b[l], c[l]);
        return c;
#endif
    }
    static V splat(E w) {  // lane by lane: V{} + w would turn a -0 weight into +0
        V v = {};
        for (int l = 0; l < n; ++l) v[l] = w;
        return v;
    }
};
template <>
struct SamplePack<float> : VectorPack<float> {};
template <>
struct SamplePack<double> : VectorPack<double> {};

template <>
struct SamplePack<F8> {
    typedef F8 V;
    static constexpr int n = 1;
    static V fma(V a, V b, V c) { return fmadd(a, b, c); }
    static V splat(F8 w) { return w; }
};

template <class V, class T>
inline V load_pack(const T* p) {
    V v;
    std::memcpy(static_cast<void*>(&v), p, sizeof v);
    return v;
}
template <class V, class T>
inline void store_pack(T* p, const V& v) {
    std::memcpy(static_cast<void*>(p), &v, sizeof v);
}

// kPacks packs of samples from b: acc = start, then fmadd(w[k * w_col], src[k][b..], acc) for k = 0..depth-1.
template <class T, int kDepth, int kPacks>
[[gnu::always_inline]] inline void weighted_block(const T* w, size_t w_col, T start, const T* src, int depth, int B,
                                                  int b, T* dst) {
    using P = SamplePack<T>;
    using V = typename P::V;
    const int D = kDepth > 0 ? kDepth : depth;
    V acc[kPacks];
#pragma GCC unroll 16
    for (int j = 0; j < kPacks; ++j) acc[j] = P::splat(start);
#pragma GCC unroll 16
    for (int k = 0; k < D; ++k) {
        const V wk = P::splat(w[k * w_col]);
        const T* sk = src + size_t(k) * B + b;
#pragma GCC unroll 16
        for (int j = 0; j < kPacks; ++j) acc[j] = P::fma(wk, load_pack<V>(sk + j * P::n), acc[j]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < kPacks; ++j) store_pack(dst + b + j * P::n, acc[j]);
}

// dst[r][b] = init[r] (zero without init), then fmadd(w(r, k), src[k][b], .)
// for k = 0..depth-1, where w(r, k) = W[r * w_row + k * w_col].
// src: [depth][B]; dst: [rows][B]. kDepth > 0 fixes depth at compile time.
template <class T, int kDepth>
void weighted_rows_fixed(const T* W, size_t w_row, size_t w_col, const T* init, const T* src, int rows, int depth,
                         int B, T* dst) {
    constexpr int n = SamplePack<T>::n;
    constexpr int kWide = 8;  // packs per block: 8 independent FMA chains hide the FMA latency
    const int D = kDepth > 0 ? kDepth : depth;
    for (int r = 0; r < rows; ++r) {
        const T* w = W + r * w_row;
        const T start = init ? init[r] : T(0);
        T* d = dst + size_t(r) * B;
        int b = 0;
        for (; b + kWide * n <= B; b += kWide * n) weighted_block<T, kDepth, kWide>(w, w_col, start, src, D, B, b, d);
        for (; b + n <= B; b += n) weighted_block<T, kDepth, 1>(w, w_col, start, src, D, B, b, d);
        for (; b < B; ++b) {
            T acc = start;
            for (int k = 0; k < D; ++k) acc = fmadd(w[k * w_col], src[size_t(k) * B + b], acc);
            d[b] = acc;
        }
    }
}

// The paper's widths get fully unrolled loops; any other width the same loops with a runtime depth.
template <class T>
void weighted_rows(const T* W, size_t w_row, size_t w_col, const T* init, const T* src, int rows, int depth, int B,
                   T* dst) {
    switch (depth) {
        case 3: return weighted_rows_fixed<T, 3>(W, w_row, w_col, init, src, rows, depth, B, dst);
        case 4: return weighted_rows_fixed<T, 4>(W, w_row, w_col, init, src, rows, depth, B, dst);
        case 5: return weighted_rows_fixed<T, 5>(W, w_row, w_col, init, src, rows, depth, B, dst);
        case 16: return weighted_rows_fixed<T, 16>(W, w_row, w_col, init, src, rows, depth, B, dst);
        default: return weighted_rows_fixed<T, 0>(W, w_row, w_col, init, src, rows, depth, B, dst);
    }
}

// a[i] *= d[i] (when d is given), returning lane_sum of the products: the
// derivative product and the bias gradient in one pass, same operations.
template <class T>
T scale_and_lane_sum(T* a, const T* d, int n) {
    if (!d) return lane_sum(a, n);
    T acc[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            a[i + l] *= d[i + l];
            acc[l] += a[i + l];
        }
    for (int l = 0; i < n; ++i, ++l) {
        a[i] *= d[i];
        acc[l] += a[i];
    }
    T s = 0;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    return s;
}

// Weight gradient tile: gw[o][i] += sum over b = 0..B-1 (in order, from
// zero) of fmadd(dy[o][b], x[i][b], .), for kO outputs from o and kI inputs from i.
template <class T, int kO, int kI>
void outer_tile(const T* dy, const T* x, int B, int o, int i, int in, T* gw) {
    T acc[kO][kI] = {};
    for (int b = 0; b < B; ++b) {
        T xv[kI];
        for (int c = 0; c < kI; ++c) xv[c] = x[size_t(i + c) * B + b];
        for (int r = 0; r < kO; ++r) {
            const T d = dy[size_t(o + r) * B + b];
            for (int c = 0; c < kI; ++c) acc[r][c] = fmadd(d, xv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < kO; ++r)
        for (int c = 0; c < kI; ++c) gw[size_t(o + r) * in + i + c] += acc[r][c];
}

template <class T, int kO>
void outer_tile_row(const T* dy, const T* x, int B, int o, int in, T* gw) {
    int i = 0;
    for (; i + 4 <= in; i += 4) outer_tile<T, kO, 4>(dy, x, B, o, i, in, gw);
    switch (in - i) {
        case 3: return outer_tile<T, kO, 3>(dy, x, B, o, i, in, gw);
        case 2: return outer_tile<T, kO, 2>(dy, x, B, o, i, in, gw);
        case 1: return outer_tile<T, kO, 1>(dy, x, B, o, i, in, gw);
        default: return;
    }
}

#if defined(__AVX2__) && defined(__FMA__)
// x [in][B] -> xt [B][R] (sample-major rows of R = 8 or 16 floats), columns in..R-1 zero.
// Each 8 x 8 block loads rows k and k + 4 into the halves of one register, so
// two in-lane 4 x 4 transposes finish it (no cross-lane permutes: slow on Zen 1).
inline void transpose_to_rows(const float* x, int in, int B, int R, float* xt) {
    int b = 0;
    for (; b + 8 <= B; b += 8)
        for (int c = 0; c < R; c += 8) {
            const auto half = [&](int k, int off) {
                return c + k < in ? _mm_loadu_ps(x + size_t(c + k) * B + b + off) : _mm_setzero_ps();
            };
            __m256 r[8];
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) {
                r[k] = _mm256_insertf128_ps(_mm256_castps128_ps256(half(k, 0)), half(k + 4, 0), 1);
                r[k + 4] = _mm256_insertf128_ps(_mm256_castps128_ps256(half(k, 4)), half(k + 4, 4), 1);
            }
#pragma GCC unroll 2
            for (int h = 0; h < 8; h += 4) {
                const __m256 t0 = _mm256_unpacklo_ps(r[h], r[h + 1]), t1 = _mm256_unpackhi_ps(r[h], r[h + 1]);
                const __m256 t2 = _mm256_unpacklo_ps(r[h + 2], r[h + 3]), t3 = _mm256_unpackhi_ps(r[h + 2], r[h + 3]);
                float* row = xt + size_t(b + h) * R + c;
                _mm256_storeu_ps(row, _mm256_shuffle_ps(t0, t2, 0x44));
                _mm256_storeu_ps(row + R, _mm256_shuffle_ps(t0, t2, 0xEE));
                _mm256_storeu_ps(row + 2 * R, _mm256_shuffle_ps(t1, t3, 0x44));
                _mm256_storeu_ps(row + 3 * R, _mm256_shuffle_ps(t1, t3, 0xEE));
            }
        }
    for (; b < B; ++b)
        for (int c = 0; c < R; ++c) xt[size_t(b) * R + c] = c < in ? x[size_t(c) * B + b] : 0.f;
}

// kG outputs from o at once, each output's row of dW in kP registers (R = 8 kP):
// kG * kP independent chains, one broadcast of dy per output and sample.
template <int kP, int kG>
void outer_rows(const float* dy, const float* xt, int B, int o, int in, float* gw) {
    constexpr int R = 8 * kP;
    // Every loop over g and p fully unrolled, so acc never leaves registers.
    __m256 acc[kG][kP];
#pragma GCC unroll 16
    for (int g = 0; g < kG; ++g)
#pragma GCC unroll 2
        for (int p = 0; p < kP; ++p) acc[g][p] = _mm256_setzero_ps();
    const float* dyo = dy + size_t(o) * B;
    for (int b = 0; b < B; ++b) {
        __m256 xv[kP];
#pragma GCC unroll 2
        for (int p = 0; p < kP; ++p) xv[p] = _mm256_loadu_ps(xt + size_t(b) * R + 8 * p);
#pragma GCC unroll 16
        for (int g = 0; g < kG; ++g) {
            const __m256 d = _mm256_broadcast_ss(dyo + size_t(g) * B + b);
#pragma GCC unroll 2
            for (int p = 0; p < kP; ++p) acc[g][p] = _mm256_fmadd_ps(d, xv[p], acc[g][p]);
        }
    }
    float rows[kG][R];
#pragma GCC unroll 16
    for (int g = 0; g < kG; ++g)
#pragma GCC unroll 2
        for (int p = 0; p < kP; ++p) _mm256_storeu_ps(rows[g] + 8 * p, acc[g][p]);
    for (int g = 0; g < kG; ++g)
        for (int i = 0; i < in; ++i) gw[size_t(o + g) * in + i] += rows[g][i];
}

// The last count < kG outputs.
template <int kP, int kG>
void outer_rows_rest(int count, const float* dy, const float* xt, int B, int o, int in, float* gw) {
    if constexpr (kG > 0) {
        if (count == kG) return outer_rows<kP, kG>(dy, xt, B, o, in, gw);
        outer_rows_rest<kP, kG - 1>(count, dy, xt, B, o, in, gw);
    }
}

template <int kP, int kG>
void outer_rows_all(const float* dy, const float* xt, int B, int out, int in, float* gw) {
    int o = 0;
    for (; o + kG <= out; o += kG) outer_rows<kP, kG>(dy, xt, B, o, in, gw);
    outer_rows_rest<kP, kG - 1>(out - o, dy, xt, B, o, in, gw);
}
#endif

// gw[o][i] += dW = dy x^T, each entry summed over samples 0..B-1 in order.
// dy: [out][B]; x: [in][B]; xt: scratch of 16 B floats (used for float with in <= 16).
template <class T>
void outer_product_gradient(const T* dy, const T* x, int out, int in, int B, T* xt, T* gw) {
#if defined(__AVX2__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, float>) {
        if (in <= 16) {
            // Vectorized across inputs: x transposed to sample-major rows so each output's row of dW stays in registers.
            const int R = in <= 8 ? 8 : 16;
            transpose_to_rows(x, in, B, R, xt);
            if (R == 8) return outer_rows_all<1, 8>(dy, xt, B, out, in, gw);
            return outer_rows_all<2, 6>(dy, xt, B, out, in, gw);
        }
    }
#endif
    (void)xt;
    // double, F8 (vectorized across models) and builds without AVX2: tiles of 2 x 4 independent sums.
    int o = 0;
    for (; o + 2 <= out; o += 2) outer_tile_row<T, 2>(dy, x, B, o, in, gw);
    if (o < out) outer_tile_row<T, 1>(dy, x, B, o, in, gw);
}

}  // namespace sca
