// The autoencoder on the CPU, forward and backward over a batch. Activations
// are feature-major ([feature][batch]) so every inner loop runs along the
// batch and vectorizes. Templated: float trains, double is the gradient oracle.
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/regularizers.hpp"
#include "host/train/gelu.hpp"
#include "host/train/gemm_layers.hpp"
#include "host/train/lane_math.hpp"
#include "host/train/narrow_linear.hpp"
#include "host/train/simd_lanes.hpp"
#include "host/config/model_shape.hpp"

namespace sca {

template <class T>
class CpuNet {
public:
    // Layers wide enough for takes_gemm(.., gemm_min_width) go through the
    // BLAS (gemm_layers.hpp); tests pass 0 (every layer) or INT_MAX (none).
    CpuNet(const ModelShape& shape, int max_batch, int gemm_min_width = kGemmMinWidth)
        : shape_(shape), layers_(linear_layers(shape)), param_count_(parameter_count(shape)), max_batch_(max_batch) {
        const size_t n = layers_.size();
        // Lanes (simd_lanes.hpp) keep every layer on the loops below: the BLAS has no 8-models-per-lane GEMM.
        for (const auto& L : layers_) gemm_.push_back(!is_lanes_v<T> && takes_gemm(L, gemm_min_width));
        inputs_.resize(n + 1);
        pre_.resize(n);
        deriv_.resize(n);
        for (size_t l = 0; l < n; ++l) {
            inputs_[l].resize(size_t(layers_[l].in) * max_batch);
            pre_[l].resize(size_t(layers_[l].out) * max_batch);
            if (layers_[l].gelu_after) deriv_[l].resize(size_t(layers_[l].out) * max_batch);
        }
        inputs_[n].resize(size_t(shape.input_dim) * max_batch);
        latent_pre_.resize(size_t(shape.latent) * max_batch);
        inv_norm_.resize(max_batch);
        grad_a_.resize(size_t(std::max(shape.hidden, std::max(shape.latent, shape.input_dim))) * max_batch);
        grad_b_.resize(grad_a_.size());
        xt_.resize(size_t(kNarrow) * max_batch);
    }

    const ModelShape& shape() const { return shape_; }
    int batch() const { return batch_; }

    // x: [D][B]. Runs encoder, normalization and decoder.
    void forward(const T* params, const T* x, int B) {
        encode(params, x, B);
        decode(params, latent(), B);
    }

    // Encoder and normalization only; latent() is z.
    void encode(const T* params, const T* x, int B) {
        batch_ = B;
        std::copy(x, x + size_t(shape_.input_dim) * B, inputs_[0].begin());
        const int enc = encoder_layer_count(shape_);
        for (int l = 0; l < enc; ++l) {
            T* out = l + 1 < enc ? inputs_[l + 1].data() : latent_pre_.data();
            linear_forward(params, l, out);
        }
        normalize();
    }

    // Decoder from z ([K][B], may be latent() or a modified copy).
    void decode(const T* params, const T* z, int B) {
        batch_ = B;
        const int enc = encoder_layer_count(shape_);
        T* dec_in = inputs_[enc].data();
        if (z != dec_in) std::copy(z, z + size_t(shape_.latent) * B, dec_in);
        for (size_t l = enc; l < layers_.size(); ++l) linear_forward(params, int(l), inputs_[l + 1].data());
    }

    const T* output() const { return inputs_.back().data(); }                          // [D][B]
    const T* latent_pre() const { return latent_pre_.data(); }                         // h [K][B]
    const T* latent() const { return inputs_[encoder_layer_count(shape_)].data(); }   // z [K][B]

    // Gradients of the loss given dL/dyhat [D][B], extra dL/dz and dL/dh
    // ([K][B], either may be null). Overwrites grad (parameter_count entries).
    void backward(const T* params, const T* dyhat, const T* dz, const T* dh, T* grad) {
        const int B = batch_, K = shape_.latent;
        std::fill(grad, grad + param_count_, T(0));
        const int enc = encoder_layer_count(shape_);
        std::copy(dyhat, dyhat + size_t(shape_.input_dim) * B, grad_a_.begin());
        for (int l = int(layers_.size()) - 1; l >= enc; --l) linear_backward(params, l, grad);
        // grad_a_ now holds dL/dz from the decoder.
        T* g = grad_a_.data();
        if (dz)
            for (size_t i = 0; i < size_t(K) * B; ++i) g[i] += dz[i];
        normalize_backward();
        if (dh)
            for (size_t i = 0; i < size_t(K) * B; ++i) g[i] += dh[i];
        for (int l = enc - 1; l >= 0; --l) linear_backward(params, l, grad);
    }

private:
    static constexpr int kNarrow = 16;  // layers this narrow take the outer-product weight gradient

    void linear_forward(const T* params, int l, T* out) {
        const LinearLayer& L = layers_[l];
        const int B = batch_;
        if constexpr (!is_lanes_v<T>)
            if (gemm_[l]) return gemm_linear_forward(L, params, inputs_[l].data(), B, pre_[l].data(), out, deriv_[l].data());
        const T* W = params + L.weight;
        const T* bias = params + L.bias;
        const T* x = inputs_[l].data();
        T* a = L.gelu_after ? pre_[l].data() : out;
        // Each element: bias, then fmadd over inputs 0..in-1 (narrow_linear.hpp blocks samples in registers).
        weighted_rows(W, size_t(L.in), 1, bias, x, L.out, L.in, B, a);
        if (L.gelu_after) gelu_with_derivative(a, out, deriv_[l].data(), size_t(L.out) * B);
    }

    // grad_a_ holds dL/d(layer output after activation); leaves dL/d(input) in grad_a_.
    void linear_backward(const T* params, int l, T* grad) {
        const LinearLayer& L = layers_[l];
        const int B = batch_;
        T* dy = grad_a_.data();
        if constexpr (!is_lanes_v<T>)
            if (gemm_[l]) {
                gemm_linear_backward(L, params, inputs_[l].data(), B, dy, L.gelu_after ? deriv_[l].data() : nullptr, grad,
                                     l == 0 ? nullptr : grad_b_.data());
                if (l != 0) std::swap(grad_a_, grad_b_);
                return;
            }
        const T* W = params + L.weight;
        const T* x = inputs_[l].data();
        // dy *= gelu' and the bias gradient in one pass.
        for (int o = 0; o < L.out; ++o)
            grad[L.bias + o] += scale_and_lane_sum(dy + size_t(o) * B,
                                                   L.gelu_after ? deriv_[l].data() + size_t(o) * B : nullptr, B);
        if (L.in <= kNarrow) {
            outer_product_gradient(dy, x, L.out, L.in, B, xt_.data(), grad + L.weight);
        } else {
            for (int o = 0; o < L.out; ++o)
                for (int i = 0; i < L.in; ++i)
                    grad[L.weight + size_t(o) * L.in + i] += lane_dot(dy + size_t(o) * B, x + size_t(i) * B, B);
        }
        if (l == 0) return;  // nothing upstream of the input
        // dx[i] = W^T dy: zero, then fmadd over outputs 0..out-1.
        weighted_rows(W, 1, size_t(L.in), static_cast<const T*>(nullptr), dy, L.in, L.out, B, grad_b_.data());
        std::swap(grad_a_, grad_b_);
    }

    // z = h / max(|h|, floor), per sample.
    void normalize() {
        const int B = batch_, K = shape_.latent;
        const T* h = latent_pre_.data();
        T* z = inputs_[encoder_layer_count(shape_)].data();
        T* inv = inv_norm_.data();
        std::fill(inv, inv + B, T(0));
        for (int k = 0; k < K; ++k)
            for (int b = 0; b < B; ++b) inv[b] = fmadd(h[size_t(k) * B + b], h[size_t(k) * B + b], inv[b]);
        for (int b = 0; b < B; ++b) inv[b] = T(1) / lane_max(lane_sqrt(inv[b]), T(kNormFloor));
        for (int k = 0; k < K; ++k)
            for (int b = 0; b < B; ++b) z[size_t(k) * B + b] = h[size_t(k) * B + b] * inv[b];
    }

    // dL/dh from dL/dz (in grad_a_): (dz - z (z.dz)) / |h| where |h| > floor, else dz / floor.
    void normalize_backward() {
        const int B = batch_, K = shape_.latent;
        const T* z = latent();
        const T* h = latent_pre_.data();
        T* g = grad_a_.data();
        for (int b = 0; b < B; ++b) {
            T r2 = 0, zdz = 0;
            for (int k = 0; k < K; ++k) {
                r2 += h[size_t(k) * B + b] * h[size_t(k) * B + b];
                zdz += z[size_t(k) * B + b] * g[size_t(k) * B + b];
            }
            const auto clamped = lane_sqrt(r2) <= T(kNormFloor);
            const T inv = inv_norm_[b];
            for (int k = 0; k < K; ++k) {
                T& gk = g[size_t(k) * B + b];
                gk = select(clamped, gk * inv, (gk - z[size_t(k) * B + b] * zdz) * inv);
            }
        }
    }

    ModelShape shape_;
    std::vector<LinearLayer> layers_;
    std::vector<bool> gemm_;  // per layer: through the BLAS
    size_t param_count_;
    int max_batch_ = 0, batch_ = 0;
    std::vector<std::vector<T>> inputs_, pre_, deriv_;
    std::vector<T> latent_pre_, inv_norm_, grad_a_, grad_b_, xt_;
};

}  // namespace sca
