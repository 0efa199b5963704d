// CUDA runtime errors as exceptions naming the call, file and line.
#pragma once
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sca::cuda {

class CudaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline void check(cudaError_t err, const char* what, const char* file, int line) {
    if (err != cudaSuccess)
        throw CudaError(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                        cudaGetErrorString(err));
}

}  // namespace sca::cuda

#define SCA_CUDA_CHECK(call) ::sca::cuda::check((call), #call, __FILE__, __LINE__)
#define SCA_CUDA_CHECK_LAUNCH(name) ::sca::cuda::check(cudaGetLastError(), name, __FILE__, __LINE__)
