// The separation term on the CPU, vectorized along the batch. Each pair is
// visited once (j > i) and feeds both rows, since c_ij = c_ji and the mask is
// symmetric. The pair math is docs/method.md §2's, the same as separation_pair() in
// kernels/regularizers.hpp (the GPU's; a test holds the two equal), written
// over fixed 8-lane chunks so the compiler keeps each chunk in registers.
// Reordering is only ever of independent work: training results are bit for
// bit those of the plain row loop (docs/performance.md, "Separation").
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
        : K_(K), stride_(round_up(max_batch)), u_(size_t(K) * stride_), du_(u_.size()), zt_(u_.size()), g_(stride_), l_(stride_), wpad_(stride_), r_(stride_), re_(stride_) {}

    // z: normalized latents, sample-major [B][K]; w: reduction weights [B].
    // Returns sum_i w_i l_i and adds scale * d/dz of it to dz ([B][K]).
    T loss_and_grad(const RegParams& p, const T* z, const T* w, int B, T scale, T* dz) {
        const int K = K_, S = stride_ = round_up(B);  // this batch's padded stride
        unit_vectors(z, B);
        std::fill(du_.begin(), du_.begin() + size_t(K) * S, T(0));
        std::fill(l_.begin(), l_.begin() + S, T(0));
        std::fill(g_.begin(), g_.begin() + S, T(0));
        std::copy(w, w + B, wpad_.begin());
        std::fill(wpad_.begin() + B, wpad_.begin() + S, T(0));

        const T half = p.shift ? T(0.5) : T(1), offset = p.shift ? T(1) : T(0), power = T(p.power);
        const T mask_tol = T(1e-8) + T(1e-5);
        const int e = p.power - 1;
        bool blocked = false;  // all pairs done by pairs_avx2, in blocks of rows
#if defined(__AVX2__) && defined(__FMA__)
        if constexpr (std::is_same_v<T, float>) blocked = pairs_avx2(p, B, scale);
#endif
        for (int i = 0; !blocked && i + 1 < B; ++i) {
            const int first = i + 1;
            const int chunk0 = first - first % kChunk;  // chunks are aligned; lanes <= i are masked
            T li[kChunk] = {};
#if defined(__AVX2__) && defined(__FMA__)
            if constexpr (std::is_same_v<T, float>) {
                chunks_avx2(p, i, chunk0, B, scale, li);
            } else
#endif
            // The same operations as chunks_avx2 and pairs_blocked (lanes of F8 each run them for one model).
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
            for (int k = 0; k < K; ++k) {
                const T uik = u_[size_t(k) * S + i];
                const T* uk = &u_[size_t(k) * S + chunk0];
                T* duk = &du_[size_t(k) * S + chunk0];
                const T* g = &g_[chunk0];
                for (int j = 0; j < n; ++j) duk[j] = fmadd(g[j], uik, duk[j]);
                du_[size_t(k) * S + i] += lane_dot(g, uk, n);
            }
        }
        unit_vectors_backward(B, dz);
        T L = 0;
        for (int i = 0; i < B; ++i) L += w[i] * l_[i];
        return L;
    }

private:
    // unit_vector() of every row into u_ (column-major, zero-padded to the
    // stride), with the same operations per row but each loop over the rows,
    // so that they vectorize across rows. Keeps z, |z| and |z| + eps for the backward.
    void unit_vectors(const T* z, int B) {
        const int K = K_, S = stride_;
        for (int i = 0; i < B; ++i)
            for (int k = 0; k < K; ++k) zt_[size_t(k) * S + i] = z[size_t(i) * K + k];
        for (int k = 0; k < K; ++k) std::fill(zt_.begin() + size_t(k) * S + B, zt_.begin() + size_t(k + 1) * S, T(0));
        T* r = r_.data();
        T* re = re_.data();
        for (int i = 0; i < S; ++i) r[i] = T(0);
        for (int k = 0; k < K; ++k) {
            const T* zk = &zt_[size_t(k) * S];
            for (int i = 0; i < S; ++i) r[i] += zk[i] * zk[i];  // dot(z, z)
        }
        for (int i = 0; i < S; ++i) r[i] = lane_sqrt(r[i]), re[i] = r[i] + T(kUnitEps);
        T* inv = g_.data();  // scratch until the pairs
        for (int i = 0; i < S; ++i) inv[i] = T(1) / re[i];
        for (int k = 0; k < K; ++k) {
            const T* zk = &zt_[size_t(k) * S];
            T* uk = &u_[size_t(k) * S];
            for (int i = 0; i < S; ++i) uk[i] = zk[i] * inv[i];
        }
    }

    // unit_vector_backward() of every row with du from du_, the same
    // operations as there per row (the norm is the forward's, the same float).
    void unit_vectors_backward(int B, T* dz) {
        const int K = K_, S = stride_;
        const T* r = r_.data();
        const T* re = re_.data();
        T* radial = g_.data();  // scratch after the pairs
        for (int i = 0; i < S; ++i) radial[i] = T(0);
        for (int k = 0; k < K; ++k) {
            const T* zk = &zt_[size_t(k) * S];
            const T* duk = &du_[size_t(k) * S];
            for (int i = 0; i < S; ++i) radial[i] += zk[i] * duk[i];  // dot(z, du)
        }
        for (int i = 0; i < S; ++i) {
            const T q = radial[i] / (r[i] * re[i] * re[i]);  // unused (and maybe 0/0) where r = 0
            radial[i] = select(r[i] > T(0), q, T(0));
        }
        for (int k = 0; k < K; ++k) {
            const T* zk = &zt_[size_t(k) * S];
            T* duk = &du_[size_t(k) * S];
            for (int i = 0; i < S; ++i) duk[i] = duk[i] / re[i] - zk[i] * radial[i];
        }
        for (int i = 0; i < B; ++i)
            for (int k = 0; k < K; ++k) dz[size_t(i) * K + k] += du_[size_t(k) * S + i];
    }

#if defined(__AVX2__) && defined(__FMA__)
    static constexpr int kBlockMaxK = 8;

    bool pairs_avx2(const RegParams& p, int B, float scale) {
        switch (K_) {
            case 1: return pairs_blocked<1>(p, B, scale);
            case 2: return pairs_blocked<2>(p, B, scale);
            case 3: return pairs_blocked<3>(p, B, scale);
            case 4: return pairs_blocked<4>(p, B, scale);
            case 5: return pairs_blocked<5>(p, B, scale);
            case 6: return pairs_blocked<6>(p, B, scale);
            case 7: return pairs_blocked<7>(p, B, scale);
            case 8: return pairs_blocked<8>(p, B, scale);
            default: return false;
        }
    }

    // lane_sum(row a, 8) of 8 rows at once, in lane a: the same additions
    // (0 + each lane, then 0 + those in lane order) on a transposed block.
    [[gnu::always_inline]] static inline __m256 lane_sums8(const __m256* rows) {
        __m256 t[8], s[8];
        for (int a = 0; a < 8; a += 2) t[a] = _mm256_unpacklo_ps(rows[a], rows[a + 1]), t[a + 1] = _mm256_unpackhi_ps(rows[a], rows[a + 1]);
        for (int h = 0; h < 8; h += 4) {
            s[h + 0] = _mm256_shuffle_ps(t[h + 0], t[h + 2], _MM_SHUFFLE(1, 0, 1, 0));
            s[h + 1] = _mm256_shuffle_ps(t[h + 0], t[h + 2], _MM_SHUFFLE(3, 2, 3, 2));
            s[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(1, 0, 1, 0));
            s[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        const __m256 zero = _mm256_setzero_ps();
        __m256 sum = zero;
        // Column l is lane l of every row. Two loops keep each permute's
        // selector a literal: without -O3's unrolling (sanitizer builds) a
        // selector computed from l is not the immediate the instruction needs.
        for (int l = 0; l < 4; ++l) sum = _mm256_add_ps(sum, _mm256_add_ps(zero, _mm256_permute2f128_ps(s[l], s[l + 4], 0x20)));
        for (int l = 4; l < 8; ++l) sum = _mm256_add_ps(sum, _mm256_add_ps(zero, _mm256_permute2f128_ps(s[l - 4], s[l], 0x31)));
        return sum;
    }

    // Constants of the pair math, one AVX register each.
    struct PairConsts {
        __m256 half, offset, one, power, tol, sign, vscale;
        int e;  // c'^(p-1)
    };

    static PairConsts pair_consts(const RegParams& p, float scale) {
        return {_mm256_set1_ps(p.shift ? 0.5f : 1.0f), _mm256_set1_ps(p.shift ? 1.0f : 0.0f), _mm256_set1_ps(1.0f),
                _mm256_set1_ps(float(p.power)),       _mm256_set1_ps(1e-8f + 1e-5f),         _mm256_set1_ps(-0.0f),
                _mm256_set1_ps(scale),                p.power - 1};
    }

    // The pair math (the row loop's, per lane) of R pair chunks from their
    // c, interleaved so that their dependency chains overlap. in_range [R]:
    // the lanes paired; wi [R]: the rows' weights; wpad: the chunk's.
    template <int R>
    [[gnu::always_inline]] static inline void pair_terms(const PairConsts& q, const __m256* c, const __m256* in_range,
                                                         const __m256* wi, __m256 wpad, __m256* value, __m256* g) {
        __m256 cs[R], x[R], r[R];  // c'^(p-1) by squaring: x the running square, r the result
        for (int a = 0; a < R; ++a) cs[a] = _mm256_mul_ps(_mm256_add_ps(c[a], q.offset), q.half), x[a] = cs[a], r[a] = q.one;
        for (int bits = q.e; bits > 0; bits >>= 1) {
            if (bits & 1)
                for (int a = 0; a < R; ++a) r[a] = _mm256_mul_ps(r[a], x[a]);
            for (int a = 0; a < R; ++a) x[a] = _mm256_mul_ps(x[a], x[a]);
        }
        for (int a = 0; a < R; ++a) {
            const __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(q.sign, _mm256_sub_ps(c[a], q.one)), q.tol, _CMP_GT_OQ);
            const __m256 kept = _mm256_and_ps(in_range[a], far);
            value[a] = _mm256_and_ps(kept, _mm256_mul_ps(r[a], cs[a]));
            const __m256 dfdc = _mm256_and_ps(kept, _mm256_mul_ps(_mm256_mul_ps(q.power, r[a]), q.half));
            const __m256 wj = _mm256_and_ps(in_range[a], wpad);
            g[a] = _mm256_mul_ps(_mm256_mul_ps(q.vscale, dfdc), _mm256_add_ps(wi[a], wj));
        }
    }

    // pair_terms of R rows (broadcast u: bu [R][K]) against one chunk (ukj [K]).
    template <int K, int R>
    [[gnu::always_inline]] static inline void pair_math(const PairConsts& q, const __m256 (*bu)[K], const __m256* ukj,
                                                        const __m256* in_range, const __m256* wi, __m256 wpad,
                                                        __m256* value, __m256* g) {
        __m256 c[R];
        for (int a = 0; a < R; ++a) c[a] = _mm256_setzero_ps();
        for (int k = 0; k < K; ++k)
            for (int a = 0; a < R; ++a) c[a] = _mm256_fmadd_ps(bu[a][k], ukj[k], c[a]);
        pair_terms<R>(q, c, in_range, wi, wpad, value, g);
    }

    // All pairs for K <= kBlockMaxK: on every element the float operations of
    // the row loop in its order (the row loop of F8 and double is the
    // reference; a test holds each F8 lane equal to this bit for bit), but
    // scheduled by blocks of the (up to 8) rows that share their first chunk
    // D: rows D-1 .. D+6. Each later chunk is loaded once per block, its du
    // and l updated in registers by the block's rows in row order, while the
    // rows' pair math overlaps (the row loop was latency-bound, and its own
    // sums' scalar stores blocked the next row's vector loads). Chunk D, where
    // the rows' own sums land between the rows' updates, is written last in
    // the row loop's order. No update is skipped, masked ones included, so
    // even signed zeros (flushed underflows) come out the same.
    template <int K>
    bool pairs_blocked(const RegParams& p, int B, float scale) {
        constexpr int R = 8;  // rows interleaved in the pair math (all of a block: fastest measured)
        constexpr int kRows = 8;
        const int S = stride_;
        const float* u = u_.data();
        float* du = du_.data();
        float* l = l_.data();
        const float* wpad = wpad_.data();
        const PairConsts q = pair_consts(p, scale);
        const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), fB = _mm256_set1_ps(float(B));
        const __m256 zero = _mm256_setzero_ps(), neg_zero = _mm256_set1_ps(-0.0f);
        // Per row of the block (padded to a multiple of R with inert rows).
        __m256 bu[kRows][K], wi[kRows], dui[kRows][K], li[kRows], diag_value[kRows], diag_g[kRows], in_range[kRows];
        for (int D = 0; D < B; D += kChunk) {
            const int i0 = std::max(D - 1, 0), i1 = std::min(D + 6, B - 2);  // the block's rows
            if (i0 > i1) break;
            const int n = i1 - i0 + 1, n_pad = (n + R - 1) / R * R;
            for (int a = 0; a < n_pad; ++a) {
                const int i = std::min(i0 + a, i1);
                for (int k = 0; k < K; ++k) bu[a][k] = _mm256_set1_ps(u[size_t(k) * S + i]);
                wi[a] = _mm256_set1_ps(wpad[i]);
            }
            __m256 ukj[K];
            // Chunk D: every row's first; its memory is updated at the end.
            for (int k = 0; k < K; ++k) ukj[k] = _mm256_loadu_ps(&u[size_t(k) * S + D]);
            const __m256 jD = _mm256_add_ps(_mm256_set1_ps(float(D)), lane);
            for (int a = 0; a < n_pad; ++a)
                in_range[a] = _mm256_and_ps(_mm256_cmp_ps(jD, _mm256_set1_ps(float(std::min(i0 + a, i1))), _CMP_GT_OQ),
                                            _mm256_cmp_ps(jD, fB, _CMP_LT_OQ));
            const __m256 wD = _mm256_loadu_ps(&wpad[D]);
            for (int a = 0; a < n_pad; a += R) pair_math<K, R>(q, &bu[a], ukj, &in_range[a], &wi[a], wD, &diag_value[a], &diag_g[a]);
            for (int a = 0; a < n; ++a) {
                li[a] = _mm256_add_ps(zero, diag_value[a]);
                for (int k = 0; k < K; ++k) dui[a][k] = _mm256_fmadd_ps(diag_g[a], ukj[k], zero);
            }
            // The later chunks: every lane j > every row i.
            for (int j0 = D + kChunk; j0 < B; j0 += kChunk) {
                __m256 duj[K], value[kRows], g[kRows], range[kRows];
                for (int k = 0; k < K; ++k) ukj[k] = _mm256_loadu_ps(&u[size_t(k) * S + j0]);
                const __m256 j = _mm256_add_ps(_mm256_set1_ps(float(j0)), lane);
                const __m256 lanes_in = _mm256_and_ps(_mm256_cmp_ps(j, _mm256_set1_ps(float(D + 6)), _CMP_GT_OQ),
                                                      _mm256_cmp_ps(j, fB, _CMP_LT_OQ));
                for (int a = 0; a < R; ++a) range[a] = lanes_in;
                const __m256 wj = _mm256_loadu_ps(&wpad[j0]);
                for (int a = 0; a < n_pad; a += R) pair_math<K, R>(q, &bu[a], ukj, range, &wi[a], wj, &value[a], &g[a]);
                __m256 lj = _mm256_loadu_ps(&l[j0]);
                for (int k = 0; k < K; ++k) duj[k] = _mm256_loadu_ps(&du[size_t(k) * S + j0]);
                for (int a = 0; a < n; ++a) {
                    li[a] = _mm256_add_ps(li[a], value[a]);
                    lj = _mm256_add_ps(lj, value[a]);
                    for (int k = 0; k < K; ++k) {
                        duj[k] = _mm256_fmadd_ps(g[a], bu[a][k], duj[k]);
                        dui[a][k] = _mm256_fmadd_ps(g[a], ukj[k], dui[a][k]);
                    }
                }
                _mm256_storeu_ps(&l[j0], lj);
                for (int k = 0; k < K; ++k) _mm256_storeu_ps(&du[size_t(k) * S + j0], duj[k]);
            }
            // The rows' own sums, lane a for row i0 + a (a shifted down by one
            // when row D - 1 leads, so that lane m is row D + m's).
            const __m256i down = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7);
            const bool lead = i0 < D;
            for (int a = n; a < kRows; ++a) {
                li[a] = zero;
                for (int k = 0; k < K; ++k) dui[a][k] = zero;
            }
            const __m256 sl = lane_sums8(li), sl_at = lead ? _mm256_permutevar8x32_ps(sl, down) : sl;
            __m256 sk[K], sk_at[K];
            for (int k = 0; k < K; ++k) {
                __m256 v[kRows];
                for (int a = 0; a < kRows; ++a) v[a] = dui[a][k];
                sk[k] = lane_sums8(v);
                sk_at[k] = lead ? _mm256_permutevar8x32_ps(sk[k], down) : sk[k];
            }
            if (lead) {  // row D - 1's sums go to column D - 1, which nothing else touches any more
                l[D - 1] += _mm256_cvtss_f32(sl);
                for (int k = 0; k < K; ++k) du[size_t(k) * S + D - 1] += _mm256_cvtss_f32(sk[k]);
            }
            // Chunk D in row order: each row's update, then its own sums (lane
            // i - D). Adding -0 leaves the other lanes exactly as they are.
            __m256 lD = _mm256_loadu_ps(&l[D]), duD[K];
            for (int k = 0; k < K; ++k) duD[k] = _mm256_loadu_ps(&du[size_t(k) * S + D]);
            for (int a = 0; a < n; ++a) {
                lD = _mm256_add_ps(lD, diag_value[a]);
                for (int k = 0; k < K; ++k) duD[k] = _mm256_fmadd_ps(diag_g[a], bu[a][k], duD[k]);
                if (a == 0 && lead) continue;
                const __m256 at = _mm256_cmp_ps(lane, _mm256_set1_ps(float(i0 + a - D)), _CMP_EQ_OQ);
                lD = _mm256_add_ps(lD, _mm256_blendv_ps(neg_zero, sl_at, at));
                for (int k = 0; k < K; ++k) duD[k] = _mm256_add_ps(duD[k], _mm256_blendv_ps(neg_zero, sk_at[k], at));
            }
            _mm256_storeu_ps(&l[D], lD);
            for (int k = 0; k < K; ++k) _mm256_storeu_ps(&du[size_t(k) * S + D], duD[k]);
        }
        return true;
    }

    // The row loop's chunks for float when K > kBlockMaxK, 8 lanes per AVX
    // register; the row loop applies the pair gradients from g_.
    void chunks_avx2(const RegParams& p, int i, int chunk0, int B, float scale, float* li_out) {
        const int K = K_, S = stride_;
        const PairConsts q = pair_consts(p, scale);
        const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 wi = _mm256_set1_ps(wpad_[i]);
        __m256 li = _mm256_setzero_ps();
        for (int j0 = chunk0; j0 < B; j0 += kChunk) {
            __m256 c = _mm256_setzero_ps();
            for (int k = 0; k < K; ++k)
                c = _mm256_fmadd_ps(_mm256_set1_ps(u_[size_t(k) * S + i]), _mm256_loadu_ps(&u_[size_t(k) * S + j0]), c);
            const __m256 j = _mm256_add_ps(_mm256_set1_ps(float(j0)), lane);
            const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(j, _mm256_set1_ps(float(i)), _CMP_GT_OQ),
                                                  _mm256_cmp_ps(j, _mm256_set1_ps(float(B)), _CMP_LT_OQ));
            __m256 value, g;
            pair_terms<1>(q, &c, &in_range, &wi, _mm256_loadu_ps(&wpad_[j0]), &value, &g);
            li = _mm256_add_ps(li, value);
            _mm256_storeu_ps(&l_[j0], _mm256_add_ps(_mm256_loadu_ps(&l_[j0]), value));
            _mm256_storeu_ps(&g_[j0], g);
        }
        _mm256_storeu_ps(li_out, li);
    }
#endif

    static int round_up(int n) { return (n + kChunk - 1) / kChunk * kChunk; }
    int K_, stride_;
    std::vector<T> u_, du_, zt_, g_, l_, wpad_, r_, re_;
};

}  // namespace sca
