// The CPU's many-models trainer: up to eight compatible runs (group_compat.hpp)
// train together, one model per lane of F8 (simd_lanes.hpp), through the
// same network, objective and Adam templates as a single CPU run, so each
// run's log, validations and final state equal its single run's bit for bit.
#pragma once
#include <string>
#include <vector>

#include "host/train/backend.hpp"

namespace sca {

constexpr int kLaneGroupSize = 8;

// Empty if cfg can train in lanes; otherwise why it takes the single-run path.
std::string lane_refusal(const ExperimentConfig& cfg);

// Empty if a and b can share a lane group; otherwise why not.
std::string lane_group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b);

// Trains 1..kLaneGroupSize compatible configs from scratch to their last
// step, validating every T/10 steps and at T like run.cpp. A run whose loss,
// gradient or state turns non-finite is retrained alone on the CPU backend,
// which names the culprit exactly as a single run does.
std::vector<GroupRunResult> train_lane_group(const std::vector<ExperimentConfig>& configs);

// The same result from the single-run CPU backend (the lanes' fallback and oracle).
GroupRunResult train_single_run(const ExperimentConfig& cfg);

}  // namespace sca
