// GELU x Phi(x) and its derivative Phi(x) + x phi(x) for one float, in the
// erfc form both backends use: Phi(x) = erfc(z) / 2 with z = -x / sqrt 2,
// from erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + |z| / 2), P the
// 9th-degree polynomial of Numerical Recipes' erfcc (fractional error below
// 1.2e-7 everywhere). Unlike 1 + erf(x / sqrt 2), which cancels below about
// x = -4, it keeps its relative accuracy in the negative tail.
// host/train/gelu.cpp vectorizes the same expressions; the CUDA kernels call this.
#pragma once
#include <math.h>

#include "hd.hpp"

namespace sca {

SCA_HD inline void gelu_erfc(float x, float& y, float& dy) {
    const float kP[10] = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
                          0.27886807f,  -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    const float inv_sqrt2 = 0.70710678118654752440f, inv_sqrt_2pi = 0.39894228040143267794f;
    const float z = -x * inv_sqrt2;
    const float t = 1.0f / (1.0f + 0.5f * fabsf(z));
    float p = kP[9];
    for (int k = 8; k >= 0; --k) p = p * t + kP[k];
    const float ans = t * expf(-z * z + p);
    const float cdf = 0.5f * (z >= 0.0f ? ans : 2.0f - ans);
    const float pdf = inv_sqrt_2pi * expf(-z * z);
    y = x * cdf;
    dy = cdf + x * pdf;
}

}  // namespace sca
