// Many models at once: M experiment configs of one shape (same model, batch,
// grid, labels and regularizer definitions; each its own seed and schedule
// values), trained together, one thread block per model, in one launch per
// train() call. Model m ends with exactly the bits a single-model run of
// configs[m] gives (the block's arithmetic does not depend on M).
//
// Shapes the fused kernel cannot hold (wide layers, data from files, inputs
// other than 3) train on the cuBLAS path (wide_trainer.hpp) with the same
// interface and the same guarantee.
//
//   sca::cuda::MultiModelTrainer sweep(configs);
//   sweep.train(0, configs[0].last_step());
//   sca::ValidationRecord v = sweep.validate(m, configs[0].last_step());
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cuda/fused_model.hpp"
#include "cuda/wide_trainer.hpp"
#include "host/train/backend.hpp"
#include "host/config/config.hpp"
#include "host/config/dataset.hpp"

namespace sca::cuda {

// The fused description of cfg's model and loss; throws ConfigError-like
// std::runtime_error naming what to change where the fused kernel cannot run it.
FusedModel fused_model_for(const ExperimentConfig& cfg);

// The cuBLAS path's description of cfg's model and loss.
WideShape wide_shape_for(const ExperimentConfig& cfg);

// Which device trainer runs cfg: Auto picks the fused kernel where it can
// (the paper's small shapes on the RGB grid: input_dim 3, its layer,
// regularizer and label limits, one block's shared memory) and the cuBLAS
// path otherwise; Fused and Cublas force one (tests, benchmarks).
enum class TrainPath { Auto, Fused, Cublas };
// Empty if the fused kernel can train cfg on this device, else why not.
std::string fused_refusal(const ExperimentConfig& cfg);
// Device memory a group of configs like cfg needs, on the path Auto picks.
DeviceFootprint group_footprint(const ExperimentConfig& cfg);

// Per step t = 0..T: lr, Adam step size lr / (1 - beta1^(t+1)), sqrt(1 - beta2^(t+1)),
// then each regularizer's weight. [T+1][3+R].
std::vector<float> schedule_table(const ExperimentConfig& cfg);

// Empty if b can train in one launch with a; otherwise what differs.
std::string incompatibility(const ExperimentConfig& a, const ExperimentConfig& b);

class MultiModelTrainer {
public:
    explicit MultiModelTrainer(std::vector<ExperimentConfig> configs, TrainPath path = TrainPath::Auto);
    ~MultiModelTrainer();

    int size() const { return int(configs_.size()); }
    std::string path() const { return device_->path(); }  // "fused" or "cublas"
    const ExperimentConfig& config(int m) const { return configs_[m]; }
    void load_state(int m, const TrainState& state);
    TrainState state(int m) const;
    std::vector<float> params(int m) const;
    // Trains steps first..last of every model; fills logs[m] if logs is not null.
    // A model whose loss or gradient is not finite stops as on the CPU: its
    // log ends with that step (bad_gradient names the term if the gradient
    // was the cause), its state stays the last good one (state(m).next_step
    // is the bad step), and later calls leave it alone until load_state(m).
    void train(int first, int last, std::vector<std::vector<StepRecord>>* logs = nullptr);
    // Validation losses of model m (its parameters copied to the CPU oracle).
    ValidationRecord validate(int m, int step) const;
    // One forward/loss/backward on the device without an update (tests).
    DeviceEvaluation evaluate(int m, int step, const float* x, const float* labels, const std::vector<float>& weights,
                              bool all_terms) const;

private:
    std::string gradient_culprit(int m, int t, const std::vector<float>& weights) const;

    std::vector<ExperimentConfig> configs_;
    std::vector<std::vector<float>> tables_;  // distinct schedule tables (host copies)
    std::vector<int> table_of_;               // [M] index into tables_
    std::unique_ptr<DeviceModels> device_;
    std::vector<int> next_step_;
    Batch validation_;  // the validation set (RGB colours or rows of data.inputs)
};

}  // namespace sca::cuda
