// Adam exactly as torch.optim.Adam (no weight decay, no amsgrad): bias
// corrections folded into the step size and denominator the same way.
#pragma once
#include <cmath>
#include <cstddef>

namespace sca {

struct AdamHyper {
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
};

// step_number counts from 1.
inline void adam_update(float* p, const float* g, float* m, float* v, size_t n, float lr, long step_number,
                        const AdamHyper& h = {}) {
    const double bc1 = 1.0 - std::pow(double(h.beta1), double(step_number));
    const double bc2 = 1.0 - std::pow(double(h.beta2), double(step_number));
    const float step_size = float(lr / bc1);
    const float bc2_sqrt = float(std::sqrt(bc2));
    for (size_t i = 0; i < n; ++i) {
        m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * g[i];
        v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * g[i] * g[i];
        const float denom = std::sqrt(v[i]) / bc2_sqrt + h.eps;
        p[i] -= step_size * m[i] / denom;
    }
}

}  // namespace sca
