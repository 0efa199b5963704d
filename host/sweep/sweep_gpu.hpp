// The sweep's seam to the CUDA many-models trainer (cuda/multi_model.hpp).
// In a CPU-only build (host/sweep/sweep_gpu_none.cpp) nothing can train here.
#pragma once
#include <string>
#include <vector>

#include "host/train/backend.hpp"

namespace sca {

// Empty if a and b can train in one launch; otherwise what differs.
std::string gpu_group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b);

// Trains every config from scratch to its last step in one many-models
// trainer (all must be compatible), validating like a single run does.
std::vector<GroupRunResult> train_group_on_gpu(const std::vector<ExperimentConfig>& configs);

}  // namespace sca
