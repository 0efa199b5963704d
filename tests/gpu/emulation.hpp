// Sizes of the GPU cases: what a device runs, and what the emulated build
// (SCA_CUDA_EMU, ~75 ms per model and step on 2 cores) runs instead.
// Fewer steps, never fewer checks.
#pragma once

namespace sca::gpu_test {

#if defined(SCA_CUDA_EMU)
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

constexpr int sized(int on_device, int emulated) { return kEmulated ? emulated : on_device; }

}  // namespace sca::gpu_test
