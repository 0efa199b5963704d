// The separation term on the CPU, vectorized along the batch. Each pair is
// visited once (j > i) and feeds both rows, since c_ij = c_ji and the mask is
// symmetric. The pair math is docs/method.md §2's, the same as separation_pair() in
// kernels/regularizers.hpp (the GPU's; a test holds the two equal), written
// over fixed 8-lane chunks so the compiler keeps each chunk in registers.
#pragma once
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/regularizers.hpp"
#include "host/train/lane_math.hpp"
#include "host/train/simd_lanes.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace sca {

template <class T>
class SeparationCpu {
public:
    static constexpr int kChunk = 8;

    explicit SeparationCpu(int max_batch, int K)
        : K_(K), stride_(round_up(max_batch)), u_(size_t(K) * stride_), du_(u_.size()), g_(stride_), l_(stride_), wpad_(stride_) {}

    // z: normalized latents, sample-major [B][K]; w: reduction weights [B].
    // Returns sum_i w_i l_i and adds scale * d/dz of it to dz ([B][K]).
    T loss_and_grad(const RegParams& p, const T* z, const T* w, int B, T scale, T* dz) {
        const int K = K_, S = stride_ = round_up(B);  // this batch's padded stride
        for (int i = 0; i < B; ++i) {
            T u[kMaxLatent];
            unit_vector(z + size_t(i) * K, K, u);  // lane-wise for F8: sqrt and division only
            for (int k = 0; k < K; ++k) u_[size_t(k) * S + i] = u[k];
        }
        for (int k = 0; k < K; ++k) std::fill(u_.begin() + size_t(k) * S + B, u_.begin() + size_t(k + 1) * S, T(0));
        std::fill(du_.begin(), du_.begin() + size_t(K) * S, T(0));
        std::fill(l_.begin(), l_.begin() + S, T(0));
        std::fill(g_.begin(), g_.begin() + S, T(0));
        std::copy(w, w + B, wpad_.begin());
        std::fill(wpad_.begin() + B, wpad_.begin() + S, T(0));

        const T half = p.shift ? T(0.5) : T(1), offset = p.shift ? T(1) : T(0), power = T(p.power);
        const T mask_tol = T(1e-8) + T(1e-5);
        const int e = p.power - 1;
        for (int i = 0; i + 1 < B; ++i) {
            const int first = i + 1;
            const int chunk0 = first - first % kChunk;  // chunks are aligned; lanes <= i are masked
            T li[kChunk] = {};
            bool grad_done = false;
#if defined(__AVX2__) && defined(__FMA__)
            if constexpr (std::is_same_v<T, float>) {
                grad_done = chunks_avx2(p, i, chunk0, B, scale, w, li);
            } else
#endif
            // The same operations as chunks_avx2 (lanes of F8 each run them for one model).
            for (int j0 = chunk0; j0 < B; j0 += kChunk) {
                T c[kChunk] = {};
                for (int k = 0; k < K; ++k) {
                    const T uik = u_[size_t(k) * S + i];
                    const T* uk = &u_[size_t(k) * S + j0];
                    for (int l = 0; l < kChunk; ++l) c[l] = fmadd(uik, uk[l], c[l]);
                }
                T cs[kChunk], x[kChunk], r[kChunk];  // c'^(p-1) by squaring: x the running square, r the result
                for (int l = 0; l < kChunk; ++l) cs[l] = (c[l] + offset) * half, x[l] = cs[l], r[l] = T(1);
                for (int bits = e; bits > 0; bits >>= 1) {
                    if (bits & 1)
                        for (int l = 0; l < kChunk; ++l) r[l] *= x[l];
                    for (int l = 0; l < kChunk; ++l) x[l] *= x[l];
                }
                for (int l = 0; l < kChunk; ++l) {
                    const int j = j0 + l;
                    const bool in_range = j > i && j < B;
                    const auto far = lane_abs(c[l] - T(1)) > mask_tol;
                    const T value = in_range ? select(far, r[l] * cs[l], T(0)) : T(0);
                    const T dfdc = in_range ? select(far, power * r[l] * half, T(0)) : T(0);
                    li[l] += value;
                    l_[j] += value;
                    g_[j] = scale * dfdc * (w[i] + (in_range ? w[j] : T(0)));
                }
            }
            l_[i] += lane_sum(li, kChunk);
            const int n = B - chunk0;
            for (int k = 0; k < K && !grad_done; ++k) {
                const T uik = u_[size_t(k) * S + i];
                const T* uk = &u_[size_t(k) * S + chunk0];
                T* duk = &du_[size_t(k) * S + chunk0];
                const T* g = &g_[chunk0];
                for (int j = 0; j < n; ++j) duk[j] = fmadd(g[j], uik, duk[j]);
                du_[size_t(k) * S + i] += lane_dot(g, uk, n);
            }
        }
        for (int i = 0; i < B; ++i) {
            T du[kMaxLatent];
            for (int k = 0; k < K; ++k) du[k] = du_[size_t(k) * S + i];
            if constexpr (is_lanes_v<T>) {
                // Its branch is per model: each lane through the float code.
                for (int m = 0; m < T::kLanes; ++m) {
                    float zm[kMaxLatent], dum[kMaxLatent], dzm[kMaxLatent];
                    for (int k = 0; k < K; ++k)
                        zm[k] = z[size_t(i) * K + k][m], dum[k] = du[k][m], dzm[k] = dz[size_t(i) * K + k][m];
                    unit_vector_backward(zm, K, dum, dzm);
                    for (int k = 0; k < K; ++k) dz[size_t(i) * K + k][m] = dzm[k];
                }
            } else {
                unit_vector_backward(z + size_t(i) * K, K, du, dz + size_t(i) * K);
            }
        }
        T L = 0;
        for (int i = 0; i < B; ++i) L += w[i] * l_[i];
        return L;
    }

private:
#if defined(__AVX2__) && defined(__FMA__)
    // The chunk loop above for float, 8 lanes per AVX register. For K <= 8 it
    // also applies the pair gradients (returns true), keeping row i's in registers.
    bool chunks_avx2(const RegParams& p, int i, int chunk0, int B, float scale, const float* w, float* li_out) {
        const int K = K_, S = stride_;
        const __m256 half = _mm256_set1_ps(p.shift ? 0.5f : 1.0f), offset = _mm256_set1_ps(p.shift ? 1.0f : 0.0f);
        const __m256 one = _mm256_set1_ps(1.0f), power = _mm256_set1_ps(float(p.power));
        const __m256 tol = _mm256_set1_ps(1e-8f + 1e-5f), sign = _mm256_set1_ps(-0.0f);
        const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 wi = _mm256_set1_ps(w[i]), vscale = _mm256_set1_ps(scale);
        const float fi = float(i), fB = float(B);
        __m256 li = _mm256_setzero_ps();
        constexpr int kFused = 8;
        const bool fused = K <= kFused;
        __m256 dui[kFused], uik[kFused];
        for (int k = 0; k < kFused; ++k) {
            dui[k] = _mm256_setzero_ps();
            uik[k] = _mm256_set1_ps(k < K ? u_[size_t(k) * S + i] : 0.0f);
        }
        for (int j0 = chunk0; j0 < B; j0 += kChunk) {
            __m256 c = _mm256_setzero_ps();
            for (int k = 0; k < K; ++k)
                c = _mm256_fmadd_ps(_mm256_set1_ps(u_[size_t(k) * S + i]), _mm256_loadu_ps(&u_[size_t(k) * S + j0]), c);
            const __m256 cs = _mm256_mul_ps(_mm256_add_ps(c, offset), half);
            __m256 x = cs, r = one;
            for (int bits = p.power - 1; bits > 0; bits >>= 1) {
                if (bits & 1) r = _mm256_mul_ps(r, x);
                x = _mm256_mul_ps(x, x);
            }
            const __m256 j = _mm256_add_ps(_mm256_set1_ps(float(j0)), lane);
            const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(j, _mm256_set1_ps(fi), _CMP_GT_OQ),
                                                  _mm256_cmp_ps(j, _mm256_set1_ps(fB), _CMP_LT_OQ));
            const __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(c, one)), tol, _CMP_GT_OQ);
            const __m256 kept = _mm256_and_ps(in_range, far);
            const __m256 value = _mm256_and_ps(kept, _mm256_mul_ps(r, cs));
            const __m256 dfdc = _mm256_and_ps(kept, _mm256_mul_ps(_mm256_mul_ps(power, r), half));
            li = _mm256_add_ps(li, value);
            _mm256_storeu_ps(&l_[j0], _mm256_add_ps(_mm256_loadu_ps(&l_[j0]), value));
            const __m256 wj = _mm256_and_ps(in_range, _mm256_loadu_ps(&wpad_[j0]));
            const __m256 g = _mm256_mul_ps(_mm256_mul_ps(vscale, dfdc), _mm256_add_ps(wi, wj));
            if (fused) {
                for (int k = 0; k < K; ++k) {
                    const __m256 ukj = _mm256_loadu_ps(&u_[size_t(k) * S + j0]);
                    float* duk = &du_[size_t(k) * S + j0];
                    _mm256_storeu_ps(duk, _mm256_fmadd_ps(g, uik[k], _mm256_loadu_ps(duk)));
                    dui[k] = _mm256_fmadd_ps(g, ukj, dui[k]);
                }
            } else {
                _mm256_storeu_ps(&g_[j0], g);
            }
        }
        _mm256_storeu_ps(li_out, li);
        if (fused)
            for (int k = 0; k < K; ++k) {
                float lanes[kChunk];
                _mm256_storeu_ps(lanes, dui[k]);
                du_[size_t(k) * S + i] += lane_sum(lanes, kChunk);
            }
        return fused;
    }
#endif

    static int round_up(int n) { return (n + kChunk - 1) / kChunk * kChunk; }
    int K_, stride_;
    std::vector<T> u_, du_, g_, l_, wpad_;
};

}  // namespace sca
