// Whether every value is finite: checked on the gradient, both Adam moments
// and the parameters after every step, so it must cost little.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace sca {

// |x| <= FLT_MAX is false for +-inf and NaN. An AND has no order to keep, so
// this vectorizes (a running sum, or an early exit, would not: as a serial
// chain of additions it was ~5% of a paper run's training, 85 -> 80 ms).
inline bool all_finite(const float* v, size_t n) {
    int ok = 1;
    for (size_t i = 0; i < n; ++i) ok &= std::fabs(v[i]) <= std::numeric_limits<float>::max();
    return ok != 0;
}

inline bool all_finite(const std::vector<float>& v) { return all_finite(v.data(), v.size()); }

}  // namespace sca
