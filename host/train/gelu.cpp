#include "host/train/gelu.hpp"

#include "kernels/gelu.hpp"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SCA_GELU_AVX2 1
#endif

namespace sca {

// Phi(x) = erfc(z) / 2 with z = -x / sqrt 2, from erfc(z) = t exp(-z^2 + P(t)),
// t = 1 / (1 + |z| / 2), P the 9th-degree polynomial of Numerical Recipes'
// erfcc (fractional error below 1.2e-7 everywhere). Unlike 1 + erf(x / sqrt 2)
// this keeps its relative accuracy in the negative tail, and it needs only
// exp, which vectorizes cheaply. phi(x) = exp(-z^2) / sqrt(2 pi). The scalar
// form, shared with the CUDA kernels, is gelu_erfc in kernels/gelu.hpp.
namespace {

constexpr float kP[10] = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
                          0.27886807f,  -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
constexpr float kInvSqrt2 = 0.70710678118654752440f, kInvSqrt2Pi = 0.39894228040143267794f;

#ifdef SCA_GELU_AVX2
// exp for x in float range: 2^n e^r, |r| <= ln2 / 2, degree-7 Taylor (error < 1e-8
// relative); below -87 the result flushes to 0.
inline __m256 exp_avx2(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.0f), hi = _mm256_set1_ps(88.0f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2 split hi + lo
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}
#endif

}  // namespace

#ifdef SCA_GELU_AVX2
// kUnroll vectors per pass, stage by stage: one vector is a chain of ~40
// dependent operations (division, 10-term polynomial, two exps) that the
// out-of-order core cannot overlap by itself (measured: ~90 cycles per vector
// on Zen). Each element's operations are unchanged, so are its bits.
namespace {

constexpr int kUnroll = 4;

template <int U>
inline void gelu_avx2_block(const float* x, float* y, float* dy) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    __m256 v[U], z[U], t[U], p[U], minus_z2[U], e[U], cdf[U];
    for (int u = 0; u < U; ++u) v[u] = _mm256_loadu_ps(x + 8 * u);
    for (int u = 0; u < U; ++u) z[u] = _mm256_mul_ps(v[u], _mm256_set1_ps(-kInvSqrt2));
    for (int u = 0; u < U; ++u) t[u] = _mm256_div_ps(one, _mm256_fmadd_ps(half, _mm256_andnot_ps(sign, z[u]), one));
    for (int u = 0; u < U; ++u) p[u] = _mm256_set1_ps(kP[9]);
    for (int k = 8; k >= 0; --k)
        for (int u = 0; u < U; ++u) p[u] = _mm256_fmadd_ps(p[u], t[u], _mm256_set1_ps(kP[k]));
    for (int u = 0; u < U; ++u) minus_z2[u] = _mm256_mul_ps(_mm256_xor_ps(z[u], sign), z[u]);
    for (int u = 0; u < U; ++u) e[u] = exp_avx2(_mm256_add_ps(minus_z2[u], p[u]));
    for (int u = 0; u < U; ++u) {
        const __m256 ans = _mm256_mul_ps(t[u], e[u]);
        const __m256 upper = _mm256_cmp_ps(z[u], zero, _CMP_GE_OQ);
        cdf[u] = _mm256_mul_ps(half, _mm256_blendv_ps(_mm256_sub_ps(two, ans), ans, upper));
    }
    for (int u = 0; u < U; ++u) e[u] = exp_avx2(minus_z2[u]);
    for (int u = 0; u < U; ++u) {
        const __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(kInvSqrt2Pi), e[u]);
        _mm256_storeu_ps(y + 8 * u, _mm256_mul_ps(v[u], cdf[u]));
        _mm256_storeu_ps(dy + 8 * u, _mm256_fmadd_ps(v[u], pdf, cdf[u]));
    }
}

}  // namespace
#endif

template <>
void gelu_with_derivative<float>(const float* x, float* y, float* dy, size_t n) {
    size_t i = 0;
#ifdef SCA_GELU_AVX2
    for (; i + 8 * kUnroll <= n; i += 8 * kUnroll) gelu_avx2_block<kUnroll>(x + i, y + i, dy + i);
    for (; i + 8 <= n; i += 8) gelu_avx2_block<1>(x + i, y + i, dy + i);
#endif
    for (; i < n; ++i) gelu_erfc(x[i], y[i], dy[i]);
}

void gelu_with_derivative(const F8* x, F8* y, F8* dy, size_t n) {
    size_t vec = 0;
#ifdef SCA_GELU_AVX2
    vec = n - n % 8;
#endif
    const auto* xf = reinterpret_cast<const float*>(x);
    auto* yf = reinterpret_cast<float*>(y);
    auto* dyf = reinterpret_cast<float*>(dy);
    gelu_with_derivative<float>(xf, yf, dyf, vec * F8::kLanes);
    for (size_t i = vec * F8::kLanes; i < n * F8::kLanes; ++i) gelu_erfc(xf[i], yf[i], dyf[i]);
}

}  // namespace sca
