// The emulated device: an H100-class GPU (132 SMs, 80 GiB, 227 KiB opt-in
// shared memory per block) whose compute capability tests may change, and
// the CUDA loader's rule for whether this build's kernel images run on it.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

namespace sca::emu {

cudaDeviceProp device_properties();
void set_compute_capability(int major, int minor);  // default 9.0
// The architectures the build was configured for (SCA_CUDA_ARCH, CMake's form).
std::string built_architectures();
// True if code built for `archs` ("80-real;86;90-virtual", CMake's form, or with commas)
// loads on a device of capability major.minor:
// SASS for sm_XY runs on X.Z with Z >= Y; PTX for compute_XY on any >= X.Y.
bool kernel_image_loads(const std::string& archs, int major, int minor);

constexpr size_t kDefaultDynamicShared = 48 * 1024;
constexpr size_t kOptinShared = 227 * 1024;

}  // namespace sca::emu
