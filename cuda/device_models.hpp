// What MultiModelTrainer needs from a device trainer of M models of one
// shape: the fused one-block-per-model kernel (DeviceTrainer, the paper's
// small shapes) or the cuBLAS path (WideTrainer, wide models and data from
// files). Both stop a model at a non-finite step the same way.
#pragma once
#include <string>
#include <vector>

namespace sca::cuda {

// The result of one forward + loss + backward on the device (tests, checks).
struct DeviceEvaluation {
    float recon = 0, total = 0;
    std::vector<float> reg;       // L_r (NaN where skipped)
    std::vector<float> grad;      // [P]
    std::vector<float> x, labels; // the batch used, [D][B] and [L][B]
    std::vector<int> points;      // grid index of each sample (drawn batches)
};

class DeviceModels {
public:
    virtual ~DeviceModels() = default;
    virtual int n_models() const = 0;
    virtual int n_params() const = 0;
    virtual std::string path() const = 0;  // "fused" or "cublas"
    virtual void set_state(int m, const float* params, const float* exp_avg, const float* exp_avg_sq) = 0;
    virtual void get_state(int m, float* params, float* exp_avg, float* exp_avg_sq) const = 0;
    // Trains steps first..last (inclusive, absolute) of every model; log
    // (host, may be null): [M][last-first+1][2 + R]: recon, L_r..., total.
    // A model whose loss or gradient is not finite at step t logs t and
    // stops there before the update (stopped_at(m) == t), like the CPU
    // backend; it trains again only after set_state().
    virtual void train(int first, int last, float* log) = 0;
    virtual int stopped_at(int m) const = 0;  // -1: not stopped
    virtual bool stopped_on_gradient(int m) const = 0;
    // One forward/loss/backward of model m's current parameters, no update.
    // x/labels (host, feature-major) may be null: then step `step`'s batch is drawn.
    virtual DeviceEvaluation evaluate(int m, int step, const float* x, const float* labels,
                                      const std::vector<float>& weights, bool all_terms) const = 0;
};

}  // namespace sca::cuda
