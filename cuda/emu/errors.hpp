// The runtime's error slot: launches and calls record an error with a
// detail; cudaGetLastError / cudaDeviceSynchronize hand it out once, and
// cudaGetErrorString appends the emulator's detail to CUDA's own text.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

namespace sca::emu {

cudaError_t record_error(cudaError_t err, const std::string& detail = "");
cudaError_t take_error();   // the pending error, cleared
cudaError_t peek_error();   // the pending error, kept
std::string last_detail(cudaError_t err);

}  // namespace sca::emu
