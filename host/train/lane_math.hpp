// Reductions over the batch in a fixed order with independent lanes: they
// vectorize without -ffast-math and stay bit-reproducible run to run.
#pragma once
#include "host/train/simd_lanes.hpp"

namespace sca {

constexpr int kLanes = 8;

template <class T>
[[gnu::always_inline]] inline T lane_dot(const T* a, const T* b, int n) {
    T acc[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] = fmadd(a[i + l], b[i + l], acc[l]);
    for (int l = 0; i < n; ++i, ++l) acc[l] = fmadd(a[i], b[i], acc[l]);
    T s = 0;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    return s;
}

template <class T>
[[gnu::always_inline]] inline T lane_sum(const T* a, int n) {
    T acc[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l];
    for (int l = 0; i < n; ++i, ++l) acc[l] += a[i];
    T s = 0;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    return s;
}

}  // namespace sca
