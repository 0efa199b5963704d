#include "cuda/emu/device_model.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>

#ifndef SCA_EMU_CUDA_ARCHITECTURES
#error "the build passes SCA_CUDA_ARCH as SCA_EMU_CUDA_ARCHITECTURES"
#endif

namespace sca::emu {

namespace {
std::atomic<int> capability{90};
}

cudaDeviceProp device_properties() {
    cudaDeviceProp p{};
    std::strncpy(p.name, "sca CUDA emulator (H100-class)", sizeof(p.name) - 1);
    p.totalGlobalMem = size_t(80) << 30;
    p.sharedMemPerBlock = kDefaultDynamicShared;
    p.sharedMemPerBlockOptin = kOptinShared;
    p.warpSize = 32;
    p.maxThreadsPerBlock = 1024;
    p.maxThreadsDim[0] = 1024, p.maxThreadsDim[1] = 1024, p.maxThreadsDim[2] = 64;
    p.maxGridSize[0] = 2147483647, p.maxGridSize[1] = 65535, p.maxGridSize[2] = 65535;
    p.major = capability / 10;
    p.minor = capability % 10;
    p.multiProcessorCount = 132;
    return p;
}

void set_compute_capability(int major, int minor) { capability = major * 10 + minor; }

std::string built_architectures() { return SCA_EMU_CUDA_ARCHITECTURES; }

bool kernel_image_loads(const std::string& archs, int major, int minor) {
    std::string normalized = archs;  // the build passes "80-real,86", CMake writes "80-real;86"
    for (char& c : normalized)
        if (c == ';') c = ',';
    std::stringstream list(normalized);
    std::string entry;
    const int device = major * 10 + minor;
    while (std::getline(list, entry, ',')) {
        if (entry == "all" || entry == "all-major" || entry == "native") return true;
        const int arch = std::atoi(entry.c_str());  // "90a-real" -> 90
        if (arch <= 0) continue;
        const bool real_only = entry.find("-real") != std::string::npos;
        const bool virtual_only = entry.find("-virtual") != std::string::npos;
        if (!virtual_only && arch / 10 == major && arch % 10 <= minor) return true;  // SASS
        if (!real_only && arch <= device) return true;                             // PTX, JIT-compiled
    }
    return false;
}

}  // namespace sca::emu
