// Linked in CPU-only builds: the sweep never takes its GPU path there.
#include <stdexcept>

#include "host/train/cuda_bridge.hpp"
#include "host/sweep/sweep_gpu.hpp"

namespace sca {

std::string gpu_group_incompatibility(const ExperimentConfig&, const ExperimentConfig&) { return cuda_unavailable_reason(); }

std::vector<GroupRunResult> train_group_on_gpu(const std::vector<ExperimentConfig>&) {
    throw std::runtime_error(cuda_unavailable_reason());
}

}  // namespace sca
