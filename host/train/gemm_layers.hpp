// A Linear layer through the BLAS's GEMM, for layers wide enough that the
// GEMM beats CpuNet's hand-written loops (docs/performance.md, "Wide models").
// Activations are feature-major ([feature][batch], row-major), so each
// product is one GEMM with no transposed copies. What PyTorch runs as
// separate passes is done row by row while the row is still in L1: bias +
// GELU + its derivative after the forward GEMM, derivative product + bias
// gradient before the backward GEMMs.
#pragma once
#include <algorithm>

#include "host/train/blas.hpp"
#include "host/train/gelu.hpp"
#include "host/train/lane_math.hpp"
#include "host/config/model_shape.hpp"

namespace sca {

// A layer takes the GEMM path when its narrower side is at least
// kGemmMinWidth and its wider side at least twice that: the crossover
// measured by bench/gemm_crossover.cpp (docs/performance.md). The paper's
// models (3-16 wide) stay on CpuNet's hand-written loops, which win there.
inline constexpr int kGemmMinWidth = 16;

inline bool takes_gemm(const LinearLayer& L, int min_width) {
    return std::min(L.in, L.out) >= min_width && std::max(L.in, L.out) >= 2 * min_width;
}

// y = W x + bias, then GELU (y = gelu(a), deriv = gelu'(a), `a` kept in pre)
// if the layer has one. x: [in][B]; W: [out][in]; pre, y, deriv: [out][B].
template <class T>
void gemm_linear_forward(const LinearLayer& L, const T* params, const T* x, int B, T* pre, T* y, T* deriv) {
    const T* W = params + L.weight;
    const T* bias = params + L.bias;
    T* a = L.gelu_after ? pre : y;
    gemm(false, false, L.out, B, L.in, T(1), W, L.in, x, B, T(0), a, B);
    for (int o = 0; o < L.out; ++o) {
        T* row = a + size_t(o) * B;
        const T b = bias[o];
        for (int i = 0; i < B; ++i) row[i] += b;
        if (L.gelu_after) gelu_with_derivative(row, y + size_t(o) * B, deriv + size_t(o) * B, size_t(B));
    }
}

// dy: dL/d(layer output) [out][B], turned in place into dL/d(pre-activation).
// Writes the layer's weight and bias gradients into grad (each written once
// per backward pass) and, unless dx is null, dL/dx [in][B] into dx.
template <class T>
void gemm_linear_backward(const LinearLayer& L, const T* params, const T* x, int B, T* dy, const T* deriv, T* grad,
                          T* dx) {
    for (int o = 0; o < L.out; ++o) {
        T* row = dy + size_t(o) * B;
        if (deriv) {
            const T* d = deriv + size_t(o) * B;
            for (int i = 0; i < B; ++i) row[i] *= d[i];
        }
        grad[L.bias + o] += lane_sum(row, B);
    }
    // dW = dy x^T ([out][B] x [B][in]); beta 1 keeps CpuNet's "add into grad" contract.
    gemm(false, true, L.out, L.in, B, T(1), dy, B, x, B, T(1), grad + L.weight, L.in);
    // dx = W^T dy ([in][out] x [out][B]).
    if (dx) gemm(true, false, L.in, B, L.out, T(1), params + L.weight, L.in, dy, B, T(0), dx, B);
}

}  // namespace sca
