// Adam exactly as torch.optim.Adam (no weight decay, no amsgrad): bias
// corrections folded into the step size and denominator the same way.
#pragma once
#include <cmath>
#include <cstddef>

namespace sca {

struct AdamHyper {
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
};

// Adam's update with its step size (lr / bias correction 1) and the square
// root of bias correction 2 given; T is float or F8 (a model per lane, one
// step size per lane), the same operations either way.
template <class T>
inline void adam_apply(T* p, const T* g, T* m, T* v, size_t n, T step_size, float bc2_sqrt, const AdamHyper& h = {}) {
    using std::sqrt;
    for (size_t i = 0; i < n; ++i) {
        m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * g[i];
        v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * g[i] * g[i];
        const T denom = sqrt(v[i]) / bc2_sqrt + h.eps;
        p[i] -= step_size * m[i] / denom;
    }
}

// step_number counts from 1.
inline float adam_step_size(float lr, long step_number, const AdamHyper& h = {}) {
    return float(lr / (1.0 - std::pow(double(h.beta1), double(step_number))));
}
inline float adam_bc2_sqrt(long step_number, const AdamHyper& h = {}) {
    return float(std::sqrt(1.0 - std::pow(double(h.beta2), double(step_number))));
}

inline void adam_update(float* p, const float* g, float* m, float* v, size_t n, float lr, long step_number,
                        const AdamHyper& h = {}) {
    adam_apply(p, g, m, v, n, adam_step_size(lr, step_number, h), adam_bc2_sqrt(step_number, h), h);
}

}  // namespace sca
