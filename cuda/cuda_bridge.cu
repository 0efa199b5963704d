// Placeholder bridge until the CUDA backend lands (issue 4): the CUDA build
// compiles and links, reports whether a device exists, and refuses to train.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "host/cuda_bridge.hpp"

namespace sca {

bool cuda_compiled() { return true; }

std::string cuda_unavailable_reason() {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) return std::string("no usable CUDA driver or device (") + cudaGetErrorString(err) + ")";
    if (count == 0) return "no CUDA device is present";
    return "the CUDA training backend is not implemented yet";
}

std::unique_ptr<Backend> make_cuda_backend(const ExperimentConfig&) {
    throw std::runtime_error("the CUDA training backend is not implemented yet");
}

}  // namespace sca
