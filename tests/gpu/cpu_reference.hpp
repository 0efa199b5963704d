// The CPU oracle for the GPU tests: the objective's terms and gradient on a
// batch, and per-tensor comparisons of parameter-shaped vectors.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "host/config/dataset.hpp"
#include "host/train/objective.hpp"

namespace sca::gpu_test {

struct CpuReference {
    LossTerms<float> terms;  // every term computed (all_terms)
    std::vector<float> grad;
};

inline CpuReference cpu_reference(const ExperimentConfig& cfg, const std::vector<float>& params, const Batch& batch,
                                  const std::vector<float>& weights) {
    CpuNet<float> net(cfg.model, batch.size);
    Objective<float> objective(cfg.model, cfg.regularizers, batch.size);
    CpuReference r;
    r.grad.resize(params.size());
    r.terms = objective.evaluate(net, params.data(), batch.x.data(), batch.labels.data(), batch.size, weights,
                                 r.grad.data(), true);
    return r;
}

// For each weight and bias tensor of cfg's model: max |a - b| / (rel max|b| + abs),
// the fraction of its tolerance `a` uses against the reference b.
struct TensorUsage {
    std::string name;
    double used = 0, scale = 0;  // scale: the tensor's max |b|
};
inline std::vector<TensorUsage> tensor_usage(const ExperimentConfig& cfg, const std::vector<float>& a,
                                             const std::vector<float>& b, double rel, double abs) {
    std::vector<TensorUsage> out;
    for (const LinearLayer& L : linear_layers(cfg.model))
        for (const auto& [name, off, n] : {std::tuple{L.weight_name, L.weight, size_t(L.in) * L.out},
                                           std::tuple{L.bias_name, L.bias, size_t(L.out)}}) {
            TensorUsage u{name};
            double diff = 0;
            for (size_t i = 0; i < n; ++i) {
                u.scale = std::max(u.scale, double(std::fabs(b[off + i])));
                diff = std::max(diff, double(std::fabs(a[off + i] - b[off + i])));
            }
            u.used = diff / (rel * u.scale + abs);
            out.push_back(u);
        }
    return out;
}

}  // namespace sca::gpu_test
