// When two runs can train together, many models at once (the GPU's
// many-models trainer, the CPU's lane trainer): the same model shape, batch,
// grid, last step, data, labels and regularizer definitions. Seeds,
// schedules and initial weights may differ.
#pragma once
#include <string>

#include "host/config/config.hpp"

namespace sca {

// Empty if a and b can train together; otherwise what differs.
std::string group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b);

}  // namespace sca
