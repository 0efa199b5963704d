// Exact GELU, x * Phi(x), with its derivative Phi(x) + x phi(x) kept for backward.
#pragma once
#include <cmath>
#include <cstddef>

#include "host/train/simd_lanes.hpp"

namespace sca {

template <class T>
void gelu_with_derivative(const T* x, T* y, T* dy, size_t n) {
    const T inv_sqrt2 = T(0.70710678118654752440), inv_sqrt_2pi = T(0.39894228040143267794);
    for (size_t i = 0; i < n; ++i) {
        const T cdf = T(0.5) * (T(1) + std::erf(x[i] * inv_sqrt2));
        const T pdf = inv_sqrt_2pi * std::exp(T(-0.5) * x[i] * x[i]);
        y[i] = x[i] * cdf;
        dy[i] = cdf + x[i] * pdf;
    }
}

// float: an erfc-based form vectorized with AVX2 (see gelu.cpp); more accurate
// than 1 + erf(x / sqrt 2) in the negative tail, where that cancels.
template <>
void gelu_with_derivative<float>(const float* x, float* y, float* dy, size_t n);

// Lanes: element i of every model is element i of its single run, so the
// first n - n % 8 elements take the AVX2 form and the rest the scalar one,
// as gelu_with_derivative<float> splits a single run's n elements.
void gelu_with_derivative(const F8* x, F8* y, F8* dy, size_t n);

}  // namespace sca
