// The loss of docs/method.md §2 on the CPU: reconstruction MSE plus each weighted
// regularizer, reduced over the batch (plain mean, or label-affinity
// weighted), and its gradient through the network.
#pragma once
#include <vector>

#include "host/config/config.hpp"
#include "host/train/cpu_net.hpp"
#include "host/train/separation_cpu.hpp"

namespace sca {

template <class T>
struct LossTerms {
    T recon = 0;
    std::vector<T> reg;          // L_r (unweighted); 0 where not computed
    std::vector<bool> computed;  // false where the weight was 0 and the term skipped
    T total = 0;
};

template <class T>
class Objective {
public:
    Objective(const ModelShape& shape, std::vector<RegularizerSpec> regs, int max_batch)
        : regs_(std::move(regs)), K_(shape.latent), D_(shape.input_dim), separation_(max_batch, shape.latent) {
        const size_t n = size_t(max_batch) * K_;
        z_.resize(n), h_.resize(n), dz_.resize(n), dh_.resize(n);
        dz_fm_.resize(n), dh_fm_.resize(n), dyhat_.resize(size_t(max_batch) * D_), omega_.resize(max_batch);
    }

    // Forward through `net`, every term with a non-zero weight (every term if
    // all_terms), and, if grad is not null, the full gradient into grad.
    // x: [D][B]; labels: [L][B]. With T = F8 (lanes, simd_lanes.hpp) labels and
    // weights are F8 too, one model per lane; a term is skipped only where
    // every lane's weight is 0 (a 0-weight lane adds exact zeros).
    template <class Label = float, class Weights = std::vector<float>>
    LossTerms<T> evaluate(CpuNet<T>& net, const T* params, const T* x, const Label* labels, int B,
                          const Weights& weights, T* grad, bool all_terms = false) {
        LossTerms<T> out;
        out.reg.assign(regs_.size(), T(0));
        out.computed.assign(regs_.size(), false);
        net.forward(params, x, B);
        const T* y = net.output();
        const T scale = T(1) / T(size_t(B) * D_);
        T sse = 0;
        for (size_t i = 0; i < size_t(B) * D_; ++i) {
            const T d = y[i] - x[i];
            sse += d * d;
            dyhat_[i] = T(2) * d * scale;
        }
        out.recon = sse * scale;
        out.total = out.recon;

        const T* zf = net.latent();
        const T* hf = net.latent_pre();
        for (int b = 0; b < B; ++b)
            for (int k = 0; k < K_; ++k) {
                z_[size_t(b) * K_ + k] = zf[size_t(k) * B + b];
                h_[size_t(b) * K_ + k] = hf[size_t(k) * B + b];
            }
        std::fill(dz_.begin(), dz_.begin() + size_t(B) * K_, T(0));
        std::fill(dh_.begin(), dh_.begin() + size_t(B) * K_, T(0));
        bool any_dh = false;
        for (size_t r = 0; r < regs_.size(); ++r) {
            const T w = T(weights[r]);
            if (all_lanes(w == T(0)) && !all_terms) continue;
            out.computed[r] = true;
            if (!reduction_weights(regs_[r], labels, B)) continue;  // no labelled sample: L_r = 0
            out.reg[r] = regs_[r].params.kind == RegKind::Separate
                             ? separation_.loss_and_grad(regs_[r].params, z_.data(), omega_.data(), B, w, dz_.data())
                             : per_sample(regs_[r].params, B, w);
            any_dh = any_dh || regs_[r].params.kind == RegKind::Unitarity;
            out.total += w * out.reg[r];
        }
        if (grad) {
            for (int b = 0; b < B; ++b)
                for (int k = 0; k < K_; ++k) {
                    dz_fm_[size_t(k) * B + b] = dz_[size_t(b) * K_ + k];
                    dh_fm_[size_t(k) * B + b] = dh_[size_t(b) * K_ + k];
                }
            net.backward(params, dyhat_.data(), dz_fm_.data(), any_dh ? dh_fm_.data() : nullptr, grad);
        }
        return out;
    }

    const std::vector<RegularizerSpec>& regularizers() const { return regs_; }

private:
    // omega_i: 1/B without labels, else a_i / (sum a + eps). False if all zero.
    template <class Label>
    bool reduction_weights(const RegularizerSpec& r, const Label* labels, int B) {
        if (r.affinities.empty()) {
            std::fill(omega_.begin(), omega_.begin() + B, T(1) / T(B));
            return true;
        }
        T sum = 0;
        for (int i = 0; i < B; ++i) {
            T a = 0;
            for (const auto& [label, f] : r.affinities) a += T(labels[size_t(label) * B + i]) * T(f);
            a = select(a < T(0), T(0), select(a > T(1), T(1), a));
            omega_[i] = a;
            sum += a;
        }
        if (all_lanes(sum == T(0))) return false;  // a lane whose sum is 0 gets omega 0: exact zeros
        const T inv = T(1) / (sum + T(kLabelEps));
        for (int i = 0; i < B; ++i) omega_[i] *= inv;
        return true;
    }

    T per_sample(const RegParams& p, int B, T w) {
        if constexpr (is_lanes_v<T>) {
            // sample_term branches per model: each lane through the float code.
            T L = 0;
            for (int m = 0; m < T::kLanes; ++m) L[m] = per_sample_lane(p, B, w[m], m);
            return L;
        } else {
            T L = 0;
            for (int i = 0; i < B; ++i) {
                if (omega_[i] == T(0)) continue;
                const size_t o = size_t(i) * K_;
                L += omega_[i] * sample_term(p, &z_[o], &h_[o], K_, w * omega_[i], &dz_[o], &dh_[o]);
            }
            return L;
        }
    }

    // per_sample's float loop on lane m of every sample.
    float per_sample_lane(const RegParams& p, int B, float w, int m) {
        float L = 0;
        for (int i = 0; i < B; ++i) {
            const float omega = lane(omega_[i], m);
            if (omega == 0.0f) continue;
            const size_t o = size_t(i) * K_;
            float z[kMaxLatent], h[kMaxLatent], dz[kMaxLatent], dh[kMaxLatent];
            for (int k = 0; k < K_; ++k)
                z[k] = lane(z_[o + k], m), h[k] = lane(h_[o + k], m), dz[k] = lane(dz_[o + k], m), dh[k] = lane(dh_[o + k], m);
            L += omega * sample_term(p, z, h, K_, w * omega, dz, dh);
            for (int k = 0; k < K_; ++k) lane(dz_[o + k], m) = dz[k], lane(dh_[o + k], m) = dh[k];
        }
        return L;
    }

    std::vector<RegularizerSpec> regs_;
    int K_, D_;
    SeparationCpu<T> separation_;
    std::vector<T> z_, h_, dz_, dh_, dz_fm_, dh_fm_, dyhat_, omega_;
};

}  // namespace sca
