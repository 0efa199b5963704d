// Per-sample normalization z = h / max(|h|, floor) with its backward pass,
// and one Adam element update: the math of host/train/cpu_net.hpp's normalize()
// and host/train/adam.hpp, written once for the GPU's wide-model kernels
// (cuda/wide_kernels.cu), which run it per sample and per parameter.
#pragma once
#include <math.h>

#include "hd.hpp"
#include "regularizers.hpp"

namespace sca {

// h, z: K values of one sample (any stride). Returns 1 / max(|h|, floor).
template <class T>
SCA_HD inline T sphere_normalize(const T* h, int K, T* z) {
    T r2 = 0;
    for (int k = 0; k < K; ++k) r2 += h[k] * h[k];
    const T inv = T(1) / fmax(T(sqrt(r2)), T(kNormFloor));
    for (int k = 0; k < K; ++k) z[k] = h[k] * inv;
    return inv;
}

// g: dL/dz on entry, dL/dh on return: (g - z (z.g)) / |h|, or g / floor
// where |h| <= floor (the clamp has no radial part).
template <class T>
SCA_HD inline void sphere_normalize_backward(const T* h, const T* z, T inv, int K, T* g) {
    T r2 = 0, zg = 0;
    for (int k = 0; k < K; ++k) {
        r2 += h[k] * h[k];
        zg += z[k] * g[k];
    }
    const bool clamped = T(sqrt(r2)) <= T(kNormFloor);
    for (int k = 0; k < K; ++k) g[k] = clamped ? g[k] * inv : (g[k] - z[k] * zg) * inv;
}

// torch.optim.Adam's update of one parameter; step_size = lr / (1 - beta1^t),
// bc2_sqrt = sqrt(1 - beta2^t), both computed once per step on the host.
SCA_HD inline void adam_element(float& p, float g, float& m, float& v, float step_size, float bc2_sqrt) {
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    m = beta1 * m + (1.0f - beta1) * g;
    v = beta2 * v + (1.0f - beta2) * g * g;
    const float denom = sqrtf(v) / bc2_sqrt + eps;
    p -= step_size * m / denom;
}

}  // namespace sca
