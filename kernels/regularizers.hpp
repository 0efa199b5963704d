// Per-sample regularizer terms of docs/method.md §2 and their analytic derivatives.
// Templated on the scalar so the same code runs in float (training) and in
// double (the finite-difference oracle); SCA_HD so the CUDA backend runs it too.
#pragma once
#include <cmath>
#include <cstdint>
#include "hd.hpp"

namespace sca {

// The largest latent width K a config may ask for (model.latent). The fused
// CUDA kernel has its own, smaller limit (cuda/fused_model.hpp); wider
// latents take the cuBLAS path there.
constexpr int kMaxLatent = 256;

enum class RegKind : int {
    Separate = 0,
    AnchorAngular,
    AnchorEuclidean,
    AntiAnchor,
    Subspace,
    AntiSubspace,
    Unitarity,
};

// Everything a term needs, plain data so it can be copied to a device. N: the
// widest latent it holds (the fused CUDA kernel passes a narrow copy by value).
template <int N>
struct RegParamsUpTo {
    static constexpr int kWords = (N + 31) / 32;
    RegKind kind = RegKind::Separate;
    int power = 100;       // separate: exponent (a positive integer)
    bool shift = true;     // separate: use (c + 1) / 2
    bool hemi = true;      // anti-anchor: max(u.a, 0) instead of (u.a + 1) / 2
    uint32_t dims[kWords] = {};  // subspace / anti-subspace: bit k set = dim k in S
    float dir[N] = {};           // anchor, anti-anchor: a_hat; euclidean anchor: the point

    SCA_HD bool has_dim(int k) const { return (dims[k >> 5] >> (k & 31)) & 1u; }
    void add_dim(int k) { dims[k >> 5] |= 1u << (k & 31); }
};
using RegParams = RegParamsUpTo<kMaxLatent>;

// The first M dims of p (the caller has checked that the latent fits in M).
template <int M, int N>
RegParamsUpTo<M> narrow_params(const RegParamsUpTo<N>& p) {
    static_assert(M <= N);
    RegParamsUpTo<M> q;
    q.kind = p.kind, q.power = p.power, q.shift = p.shift, q.hemi = p.hemi;
    for (int w = 0; w < q.kWords; ++w) q.dims[w] = p.dims[w];
    for (int k = 0; k < M; ++k) q.dir[k] = p.dir[k];
    return q;
}

constexpr float kUnitEps = 1e-8f;     // u = z / (|z| + eps)
constexpr float kDirEps = 1e-8f;      // a_hat = a / (|a| + eps)
constexpr float kLabelEps = 1e-8f;    // sum a_i l_i / (sum a_i + eps)
constexpr float kNormFloor = 1e-12f;  // z = h / max(|h|, floor)

template <class T>
SCA_HD inline T dot(const T* a, const T* b, int n) {
    T s = 0;
    for (int k = 0; k < n; ++k) s += a[k] * b[k];
    return s;
}

template <class T>
SCA_HD inline T norm2(const T* a, int n) {
    return sqrt(dot(a, a, n));
}

// u = z / (|z| + eps).
template <class T>
SCA_HD inline void unit_vector(const T* z, int K, T* u) {
    const T inv = T(1) / (norm2(z, K) + T(kUnitEps));
    for (int k = 0; k < K; ++k) u[k] = z[k] * inv;
}

// Adds to dz the gradient through u = z / (|z| + eps), given du.
template <class T>
SCA_HD inline void unit_vector_backward(const T* z, int K, const T* du, T* dz) {
    const T r = norm2(z, K);
    const T re = r + T(kUnitEps);
    const T zdu = dot(z, du, K);
    const T radial = r > T(0) ? zdu / (r * re * re) : T(0);
    for (int k = 0; k < K; ++k) dz[k] += du[k] / re - z[k] * radial;
}

// x^n for integer n >= 0 by repeated squaring (pow() is slow and inexact here).
template <class T>
SCA_HD inline T pow_int(T x, int n) {
    T result = 1;
    while (n > 0) {
        if (n & 1) result *= x;
        x *= x;
        n >>= 1;
    }
    return result;
}

// One separation pair: returns m * c'^p and sets dfdc = d(m * c'^p)/dc.
// Pairs of (numerically) identical directions are masked, as the reference does.
template <class T>
SCA_HD inline T separation_pair(T c, int power, bool shift, T* dfdc) {
    const T diff = c - T(1);
    if ((diff < 0 ? -diff : diff) <= T(1e-8) + T(1e-5)) {
        *dfdc = 0;
        return 0;
    }
    const T cs = shift ? (c + T(1)) * T(0.5) : c;
    const T pm1 = pow_int(cs, power - 1);
    *dfdc = T(power) * pm1 * (shift ? T(0.5) : T(1));
    return pm1 * cs;
}

// Per-sample term l_i for every kind except separate (pairwise, handled by the
// backend). z: normalized latent, h: pre-norm latent. Adds w * dl/dz to dz and
// w * dl/dh to dh (unitarity only), returns l_i.
template <class T, class P>
SCA_HD inline T sample_term(const P& p, const T* z, const T* h, int K, T w, T* dz, T* dh) {
    switch (p.kind) {
        case RegKind::AnchorAngular:
        case RegKind::AntiAnchor: {
            // u and du are formed element by element (no K-sized arrays, so
            // any K fits the stack), in the order unit_vector and
            // unit_vector_backward use: the same floats as with arrays.
            const T inv = T(1) / (norm2(z, K) + T(kUnitEps));
            T ua = 0;
            for (int k = 0; k < K; ++k) ua += (z[k] * inv) * T(p.dir[k]);
            T l, g;  // g = dl/d(u.a)
            if (p.kind == RegKind::AnchorAngular) {
                l = T(1) - ua;
                g = -1;
            } else if (p.hemi) {
                l = ua > T(0) ? ua : T(0);
                g = ua > T(0) ? T(1) : T(0);
            } else {
                l = (ua + T(1)) * T(0.5);
                g = T(0.5);
            }
            if (g != T(0)) {
                const T r = norm2(z, K);
                const T re = r + T(kUnitEps);
                T zdu = 0;
                for (int k = 0; k < K; ++k) zdu += z[k] * (w * g * T(p.dir[k]));
                const T radial = r > T(0) ? zdu / (r * re * re) : T(0);
                for (int k = 0; k < K; ++k) dz[k] += (w * g * T(p.dir[k])) / re - z[k] * radial;
            }
            return l;
        }
        case RegKind::AnchorEuclidean: {
            T l = 0;
            for (int k = 0; k < K; ++k) {
                const T d = z[k] - T(p.dir[k]);
                l += d * d;
                dz[k] += w * T(2) * d;
            }
            return l;
        }
        case RegKind::Subspace:
        case RegKind::AntiSubspace: {
            const bool in_set_counts = p.kind == RegKind::AntiSubspace;
            T l = 0;
            for (int k = 0; k < K; ++k) {
                const bool in_set = p.has_dim(k);
                if (in_set == in_set_counts) {
                    l += z[k] * z[k];
                    dz[k] += w * T(2) * z[k];
                }
            }
            return l;
        }
        case RegKind::Unitarity: {
            const T r = norm2(h, K);
            const T d = r - T(1);
            if (r > T(0))
                for (int k = 0; k < K; ++k) dh[k] += w * T(2) * d * h[k] / r;
            return d * d;
        }
        case RegKind::Separate:
            break;
    }
    return 0;
}

// Pairwise separation for sample i against every j != i. Returns l_i and adds to
// du_i the gradient of sum_i w_i l_i w.r.t. u_i: sum_j f'(c_ij)(w_i + w_j) u_j.
// u: sample-major unit vectors [B][K]; w: reduction weights [B].
template <class T, class P>
SCA_HD inline T separation_row(const P& p, const T* u, const T* w, int B, int K, int i, T scale, T* du_i) {
    const T* ui = u + size_t(i) * K;
    T l = 0;
    for (int j = 0; j < B; ++j) {
        if (j == i) continue;  // a sample is not its own pair (a zero latent would count)
        const T* uj = u + size_t(j) * K;
        const T c = dot(ui, uj, K);
        T dfdc;
        l += separation_pair(c, p.power, p.shift, &dfdc);
        if (dfdc != T(0)) {
            const T g = scale * dfdc * (w[i] + w[j]);
            for (int k = 0; k < K; ++k) du_i[k] += g * uj[k];
        }
    }
    return l;
}

}  // namespace sca
