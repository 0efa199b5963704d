// Linked in CPU-only builds (SCA_CUDA=OFF or no nvcc).
#include <stdexcept>

#include "host/train/cuda_bridge.hpp"

namespace sca {

bool cuda_compiled() { return false; }
std::string cuda_unavailable_reason() { return "this build has no CUDA backend (built with SCA_CUDA=OFF or without nvcc)"; }
std::unique_ptr<Backend> make_cuda_backend(const ExperimentConfig&) {
    throw std::runtime_error(cuda_unavailable_reason());
}

}  // namespace sca
