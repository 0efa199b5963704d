// F8: eight floats, one model per lane (GCC vector extension, one AVX2
// register). The network, objective and Adam templates run on it unchanged,
// so each lane does exactly the float operations of a single run: no
// operation ever mixes lanes. Masks (M8) replace per-model branches.
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>

namespace sca {

typedef float f8_raw __attribute__((vector_size(32)));
typedef int i8_raw __attribute__((vector_size(32)));

struct M8 {
    i8_raw v;
};

struct F8 {
    static constexpr int kLanes = 8;
    f8_raw v;
    F8() : v{} {}
    F8(float x) : v{x, x, x, x, x, x, x, x} {}  // NOLINT: implicit like a float constant
    template <class A, class = std::enable_if_t<std::is_arithmetic_v<A> && !std::is_same_v<A, float>>>
    explicit F8(A x) : F8(float(x)) {}  // T(x) of a double or integer means float(x) in every lane
    F8(f8_raw r) : v(r) {}
    float& operator[](int l) { return reinterpret_cast<float*>(&v)[l]; }
    float operator[](int l) const { return v[l]; }
    F8& operator+=(F8 o) { v += o.v; return *this; }
    F8& operator-=(F8 o) { v -= o.v; return *this; }
    F8& operator*=(F8 o) { v *= o.v; return *this; }
    F8 operator-() const { return F8(f8_raw(-v)); }
};

inline F8 operator+(F8 a, F8 b) { return F8(f8_raw(a.v + b.v)); }
inline F8 operator-(F8 a, F8 b) { return F8(f8_raw(a.v - b.v)); }
inline F8 operator*(F8 a, F8 b) { return F8(f8_raw(a.v * b.v)); }
inline F8 operator/(F8 a, F8 b) { return F8(f8_raw(a.v / b.v)); }
inline M8 operator<(F8 a, F8 b) { return {a.v < b.v}; }
inline M8 operator>(F8 a, F8 b) { return {a.v > b.v}; }
inline M8 operator<=(F8 a, F8 b) { return {a.v <= b.v}; }
inline M8 operator==(F8 a, F8 b) { return {a.v == b.v}; }
inline M8 operator!=(F8 a, F8 b) { return {a.v != b.v}; }

// Lane-wise helpers with the float (and double) meaning of each name.
inline F8 select(M8 m, F8 a, F8 b) { return F8(f8_raw(m.v ? a.v : b.v)); }
template <class T>
inline T select(bool c, T a, T b) { return c ? a : b; }
inline bool all_lanes(bool b) { return b; }
inline bool all_lanes(M8 m) {
    for (int l = 0; l < F8::kLanes; ++l)
        if (!m.v[l]) return false;
    return true;
}
inline F8 sqrt(F8 x) {
#if defined(__AVX__)
    return F8(__builtin_ia32_sqrtps256(x.v));
#else
    for (int l = 0; l < F8::kLanes; ++l) x[l] = std::sqrt(x[l]);
    return x;
#endif
}
template <class T>
inline T lane_sqrt(T x) {
    using std::sqrt;
    return sqrt(x);
}
inline float lane_max(float a, float b) { return std::max(a, b); }
inline double lane_max(double a, double b) { return std::max(a, b); }
inline F8 lane_max(F8 a, F8 b) { return select(a < b, b, a); }  // std::max's (a < b) ? b : a
template <class T>
inline T lane_abs(T x) {
    return select(x < T(0), -x, x);
}

// a * b + c rounded once. The build turns off implicit contraction
// (CMakeLists.txt), so every FMA is one of these, the same in a single run
// and in its lane; with -mfma each is one instruction (and vectorizes).
inline float fmadd(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
inline double fmadd(double a, double b, double c) { return __builtin_fma(a, b, c); }
inline F8 fmadd(F8 a, F8 b, F8 c) {
#if defined(__FMA__)
    return F8(__builtin_ia32_vfmaddps256(a.v, b.v, c.v));
#else
    for (int l = 0; l < F8::kLanes; ++l) c[l] = __builtin_fmaf(a[l], b[l], c[l]);
    return c;
#endif
}

template <class T>
inline constexpr bool is_lanes_v = std::is_same_v<T, F8>;
template <class T>
inline constexpr int lanes_of = is_lanes_v<T> ? F8::kLanes : 1;

// Lane l of a value as a float reference (lane 0 of a plain float).
inline float& lane(F8& x, int l) { return x[l]; }
inline float& lane(float& x, int) { return x; }

}  // namespace sca
