// What a training backend does; the run orchestration (run.cpp) owns files,
// logs and progress and is the same for every backend.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "host/config/checkpoint.hpp"
#include "host/config/config.hpp"

namespace sca {

struct StepRecord {
    int step = 0;
    float lr = 0;
    std::vector<float> weights;  // per regularizer
    float recon = 0;
    std::vector<float> reg;      // L_r; NaN where skipped (weight 0)
    float total = 0;
    // Set by a backend that checks gradients (the CPU one): the term whose
    // gradient was not finite at this step ("recon" or a regularizer's name);
    // the step's update was then not applied and training stopped there.
    std::string bad_gradient;
    // Set by the CPU backend when the step's update left a non-finite value:
    // "exp_avg" or "exp_avg_sq" (Adam's moments) or "parameters"; training
    // stopped at this step.
    std::string bad_state;
};

struct ValidationRecord {
    int step = 0;
    double recon = 0;
    std::vector<double> reg;  // every regularizer, exact labels, unweighted
};

// One run trained start to end by a many-models trainer (GPU or CPU lanes):
// what run.cpp's own loop would have recorded for it.
struct GroupRunResult {
    std::vector<StepRecord> log;               // steps 0..T
    std::vector<ValidationRecord> validation;  // every T/10 steps and at T
    TrainState state;                          // after step T
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual void load_state(const TrainState& state) = 0;
    virtual TrainState state() = 0;
    // Trains steps first..last inclusive, appending one record per step.
    virtual void train(int first, int last, std::vector<StepRecord>& log) = 0;
    // Losses on the validation set with the current weights.
    virtual ValidationRecord validate(int step) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const ExperimentConfig& cfg);

// The state a fresh run starts from: initial weights, zero moments.
TrainState initial_state(const ExperimentConfig& cfg);

}  // namespace sca
