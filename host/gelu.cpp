#include "gelu.hpp"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__GLIBC__)
#include <immintrin.h>
// glibc's vector math (libmvec, AVX2 variants; erff since glibc 2.35).
extern "C" __m256 _ZGVdN8v_erff(__m256);
extern "C" __m256 _ZGVdN8v_expf(__m256);
#define SCA_HAVE_LIBMVEC 1
#endif

namespace sca {

template <>
void gelu_with_derivative<float>(const float* x, float* y, float* dy, size_t n) {
    size_t i = 0;
#ifdef SCA_HAVE_LIBMVEC
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 inv_sqrt2 = _mm256_set1_ps(0.70710678118654752440f);
    const __m256 minus_half = _mm256_set1_ps(-0.5f);
    const __m256 inv_sqrt_2pi = _mm256_set1_ps(0.39894228040143267794f);
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 erf = _ZGVdN8v_erff(_mm256_mul_ps(v, inv_sqrt2));
        const __m256 cdf = _mm256_mul_ps(half, _mm256_add_ps(one, erf));
        const __m256 e = _ZGVdN8v_expf(_mm256_mul_ps(_mm256_mul_ps(minus_half, v), v));
        const __m256 pdf = _mm256_mul_ps(inv_sqrt_2pi, e);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, cdf));
        _mm256_storeu_ps(dy + i, _mm256_add_ps(cdf, _mm256_mul_ps(v, pdf)));
    }
#endif
    for (; i < n; ++i) {
        const float cdf = 0.5f * (1.0f + std::erf(x[i] * 0.70710678118654752440f));
        const float pdf = 0.39894228040143267794f * std::exp(-0.5f * x[i] * x[i]);
        y[i] = x[i] * cdf;
        dy[i] = cdf + x[i] * pdf;
    }
}

}  // namespace sca
