// The seam between the host program and the optional CUDA backend. In a
// CPU-only build these report that no GPU backend exists.
#pragma once
#include <memory>
#include <string>

#include "host/train/backend.hpp"

namespace sca {

bool cuda_compiled();
// Empty if a usable GPU is present, else why not (no driver, no device, ...).
std::string cuda_unavailable_reason();
std::unique_ptr<Backend> make_cuda_backend(const ExperimentConfig& cfg);
// Empty if the CUDA backend can train cfg, else why not (`backend: auto`
// then trains on the CPU). Today every loadable config is accepted: shapes
// the fused kernel cannot hold take the cuBLAS path.
std::string cuda_refusal(const ExperimentConfig& cfg);

}  // namespace sca
