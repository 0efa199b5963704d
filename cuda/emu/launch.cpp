#include "cuda/emu/launch.hpp"

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "cuda/emu/block_workers.hpp"
#include "cuda/emu/device.hpp"
#include "cuda/emu/device_model.hpp"
#include "cuda/emu/errors.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SCA_EMU_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SCA_EMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SCA_EMU_POISON(p, n) ((void)(p), (void)(n))
#define SCA_EMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace sca::emu {

namespace {
thread_local ThreadContext context;
}

ThreadContext& this_thread() { return context; }

namespace {

std::mutex attribute_mutex;
std::map<const void*, int> max_dynamic_shared;  // cudaFuncAttributeMaxDynamicSharedMemorySize per kernel

// One launch at a time: static __shared__ objects belong to the kernel, not to a launch.
std::mutex launch_mutex;

constexpr size_t kGuardBytes = 4096;
constexpr uint32_t kNaN = 0x7fc00000u;

// Exactly `bytes` of NaN, then a guard: a read past the end sees NaN (ASan
// reports it), a write past the end is reported after the block.
class DynamicShared {
public:
    explicit DynamicShared(size_t bytes) : bytes_(bytes), p_(new (std::align_val_t(16)) std::byte[bytes + kGuardBytes]) {}
    ~DynamicShared() {
        SCA_EMU_UNPOISON(p_ + bytes_, kGuardBytes);
        ::operator delete[](p_, std::align_val_t(16));
    }
    void* fill() {
        SCA_EMU_UNPOISON(p_ + bytes_, kGuardBytes);
        for (size_t i = 0; i + 4 <= bytes_ + kGuardBytes; i += 4) std::memcpy(p_ + i, &kNaN, 4);
        SCA_EMU_POISON(p_ + bytes_, kGuardBytes);
        return p_;
    }
    bool guard_intact() {
        SCA_EMU_UNPOISON(p_ + bytes_, kGuardBytes);
        for (size_t i = (bytes_ + 3) / 4 * 4; i + 4 <= bytes_ + kGuardBytes; i += 4)
            if (std::memcmp(p_ + i, &kNaN, 4) != 0) return false;
        return true;
    }

private:
    size_t bytes_;
    std::byte* p_;
};

std::string text(dim3 d) {
    std::string out = "(";
    out += std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + ")";
    return out;
}

// The configuration checks a launch gets before any thread runs.
std::string configuration_error(const void* kernel, dim3 grid, dim3 block, size_t smem, cudaError_t& err) {
    const cudaDeviceProp p = device_properties();
    err = cudaErrorNoKernelImageForDevice;
    if (!kernel_image_loads(built_architectures(), p.major, p.minor))
        return "built for " + built_architectures() + ", the device is sm_" + std::to_string(p.major * 10 + p.minor);
    err = cudaErrorInvalidConfiguration;
    const size_t threads = size_t(block.x) * block.y * block.z;
    if (threads == 0 || threads > size_t(p.maxThreadsPerBlock) || block.x > unsigned(p.maxThreadsDim[0]) ||
        block.y > unsigned(p.maxThreadsDim[1]) || block.z > unsigned(p.maxThreadsDim[2]))
        return "block " + text(block) + ": at most 1024 threads, (1024, 1024, 64)";
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > unsigned(p.maxGridSize[0]) ||
        grid.y > unsigned(p.maxGridSize[1]) || grid.z > unsigned(p.maxGridSize[2]))
        return "grid " + text(grid) + ": each dimension >= 1, at most (2^31 - 1, 65535, 65535)";
    err = cudaErrorInvalidValue;
    size_t limit = kDefaultDynamicShared;
    {
        std::lock_guard lock(attribute_mutex);
        if (auto it = max_dynamic_shared.find(kernel); it != max_dynamic_shared.end()) limit = size_t(it->second);
    }
    if (smem > limit)
        return std::to_string(smem) + " bytes of dynamic shared memory, the kernel allows " + std::to_string(limit) +
               " (raise it with cudaFuncSetAttribute(MaxDynamicSharedMemorySize), at most " +
               std::to_string(kOptinShared) + ")";
    err = cudaSuccess;
    return "";
}

// Runs one block, each CUDA thread on its own OS thread (block_workers.hpp).
// Returns the block's error or "".
std::string run_block(const char* name, dim3 grid, dim3 block, uint3 index, void* smem,
                      const std::function<void()>& body) {
    const int n = int(block.x * block.y * block.z);
    ThreadBlock tb(n, name);
    BlockCountdown finished(n);
    const std::function<void(int)> thread_body = [&](int tid) {
        const uint3 thread = {unsigned(tid) % block.x, unsigned(tid) / block.x % block.y,
                              unsigned(tid) / (block.x * block.y)};
        context = {thread, index, block, grid, &tb, tid, smem};
        try {
            body();
        } catch (const BlockAborted&) {
        } catch (const std::exception& e) {
            try {
                tb.fail(std::string("thread ") + std::to_string(tid) + " threw: " + e.what());
            } catch (const BlockAborted&) {
            }
        }
        try {
            tb.exit(tid);
        } catch (const BlockAborted&) {
        }
        context = {};
        finished.arrive();
    };
    start_block_threads(n, thread_body);  // thread_body outlives the block: watch returns after the last arrive
    tb.watch(finished);
    return tb.error();
}

}  // namespace

void run_grid(const void* kernel, const char* name, dim3 grid, dim3 block, size_t dynamic_smem,
              const std::function<void()>& body) {
    cudaError_t err = cudaSuccess;
    const std::string why = configuration_error(kernel, grid, block, dynamic_smem, err);
    if (err != cudaSuccess) {
        record_error(err, std::string(name) + " launch: " + why);
        return;
    }
    std::lock_guard lock(launch_mutex);
    DynamicShared smem(dynamic_smem);
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                std::string error = run_block(name, grid, block, {x, y, z}, smem.fill(), body);
                if (error.empty() && !smem.guard_intact())
                    error = std::string(name) + ": a thread wrote past the end of the " + std::to_string(dynamic_smem) +
                            " bytes of dynamic shared memory the launch gave";
                if (!error.empty()) {
                    record_error(cudaErrorLaunchFailure, "block " + text(dim3(x, y, z)) + " of " + error);
                    return;
                }
            }
}

}  // namespace sca::emu

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
    using namespace sca::emu;
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || size_t(value) > kOptinShared)
        return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute(MaxDynamicSharedMemorySize, " +
                                                       std::to_string(value) + "): at most " + std::to_string(kOptinShared));
    std::lock_guard lock(attribute_mutex);
    max_dynamic_shared[func] = value;
    return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
    using namespace sca::emu;
    const cudaDeviceProp p = device_properties();
    if (!kernel_image_loads(built_architectures(), p.major, p.minor))
        return record_error(cudaErrorNoKernelImageForDevice,
                            "built for " + built_architectures() + ", the device is sm_" + std::to_string(p.major * 10 + p.minor));
    std::lock_guard lock(attribute_mutex);
    const auto it = max_dynamic_shared.find(func);
    *attr = {};
    attr->maxDynamicSharedSizeBytes = it == max_dynamic_shared.end() ? int(kDefaultDynamicShared) : it->second;
    attr->maxThreadsPerBlock = p.maxThreadsPerBlock;
    attr->ptxVersion = attr->binaryVersion = p.major * 10 + p.minor;
    return cudaSuccess;
}
