// The seam between device code and the two ways it is built: nvcc, or the
// host compiler against the emulator in cuda/emu (cmake -DSCA_CUDA_EMU=ON).
// Device code uses these two macros instead of the forms nvcc alone accepts;
// they mean the same in both builds.
//   SCA_LAUNCH(kernel, grid, block, smem)(args...)   kernel<<<grid, block, smem>>>(args...)
//   SCA_DYNAMIC_SHARED(float, s);                     extern __shared__ float s[];
#pragma once
#if defined(SCA_CUDA_EMU)
#include "cuda/emu/device.hpp"
#include "cuda/emu/launch.hpp"
#define SCA_LAUNCH(kernel, grid, block, smem) ::sca::emu::launcher(kernel, #kernel, grid, block, smem)
#define SCA_DYNAMIC_SHARED(type, name) type* const name = ::sca::emu::dynamic_shared<type>()
#else
#define SCA_LAUNCH(kernel, grid, block, smem) kernel<<<grid, block, smem>>>
#define SCA_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif
