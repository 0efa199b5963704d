// The register-blocked Linear kernels (host/train/narrow_linear.hpp) against
// the plain per-element loops they replace: equal bit for bit for float,
// double and F8 lanes, at the paper's widths and others, with batch tails.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "host/train/narrow_linear.hpp"

using namespace sca;

namespace {

template <class T>
std::vector<T> random_values(size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<T> v(n);
    for (size_t k = 0; k < n; ++k)
        for (int l = 0; l < lanes_of<T>; ++l) {
            float x = u(rng);
            if (k % 11 == 3) x = -0.f;  // signed zeros must survive the broadcasts
            if constexpr (is_lanes_v<T>) v[k][l] = x;
            else v[k] = T(x) * T(1.0000001);  // doubles with bits beyond a float's
        }
    return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
void check_layer(int in, int out, int B) {
    CAPTURE(in, out, B, lanes_of<T>, sizeof(T));
    std::mt19937 rng(unsigned(in * 1000 + out * 10 + B));
    const auto W = random_values<T>(size_t(out) * in, rng), bias = random_values<T>(out, rng);
    const auto x = random_values<T>(size_t(in) * B, rng), dy = random_values<T>(size_t(out) * B, rng);
    const auto deriv = random_values<T>(size_t(out) * B, rng);

    // Forward: bias, then fmadd over inputs in order.
    std::vector<T> y(size_t(out) * B), y_ref(y.size());
    for (int o = 0; o < out; ++o)
        for (int b = 0; b < B; ++b) {
            T acc = bias[o];
            for (int i = 0; i < in; ++i) acc = fmadd(W[size_t(o) * in + i], x[size_t(i) * B + b], acc);
            y_ref[size_t(o) * B + b] = acc;
        }
    weighted_rows(W.data(), size_t(in), 1, bias.data(), x.data(), out, in, B, y.data());
    CHECK(same_bits(y, y_ref));

    // Input gradient: zero, then fmadd over outputs in order.
    std::vector<T> dx(size_t(in) * B), dx_ref(dx.size());
    for (int i = 0; i < in; ++i)
        for (int b = 0; b < B; ++b) {
            T acc = T(0);
            for (int o = 0; o < out; ++o) acc = fmadd(W[size_t(o) * in + i], dy[size_t(o) * B + b], acc);
            dx_ref[size_t(i) * B + b] = acc;
        }
    weighted_rows(W.data(), 1, size_t(in), static_cast<const T*>(nullptr), dy.data(), in, out, B, dx.data());
    CHECK(same_bits(dx, dx_ref));

    // Weight gradient: zero, then fmadd over samples in order, added to what grad held.
    std::vector<T> gw = random_values<T>(size_t(out) * in, rng), gw_ref = gw;
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i) {
            T acc = T(0);
            for (int b = 0; b < B; ++b) acc = fmadd(dy[size_t(o) * B + b], x[size_t(i) * B + b], acc);
            gw_ref[size_t(o) * in + i] += acc;
        }
    std::vector<T> xt(size_t(16) * B);
    outer_product_gradient(dy.data(), x.data(), out, in, B, xt.data(), gw.data());
    CHECK(same_bits(gw, gw_ref));

    // Derivative product and bias gradient in one pass: the products, then lane_sum of them.
    std::vector<T> a = dy, a_ref = dy;
    for (size_t k = 0; k < a_ref.size(); ++k) a_ref[k] *= deriv[k];
    for (int o = 0; o < out; ++o) {
        const T s = scale_and_lane_sum(a.data() + size_t(o) * B, deriv.data() + size_t(o) * B, B);
        const T s_ref = lane_sum(a_ref.data() + size_t(o) * B, B);
        CHECK(std::memcmp(&s, &s_ref, sizeof s) == 0);
    }
    CHECK(same_bits(a, a_ref));
}

template <class T>
void check_shapes() {
    const int shapes[][2] = {{3, 16}, {16, 16}, {16, 5}, {5, 16}, {16, 3}, {4, 4}, {7, 9}, {12, 2}, {1, 13}, {24, 6}};
    for (const auto& s : shapes)
        for (int B : {1, 7, 8, 64, 67, 130}) check_layer<T>(s[0], s[1], B);
}

}  // namespace

TEST_CASE("narrow Linear kernels equal the plain loops bit for bit", "[narrow][lanes]") {
    check_shapes<float>();
    check_shapes<double>();
    check_shapes<F8>();
}
