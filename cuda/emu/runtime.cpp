// The CUDA runtime calls on host memory: allocations are plain malloc (so
// ASan sees overflows of device buffers), counted against the emulated
// device's 80 GiB; copies are memcpy; events read a steady clock. Kernels
// run synchronously inside the launch, so synchronizing only hands out errors.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "cuda/emu/device_model.hpp"
#include "cuda/emu/errors.hpp"

using sca::emu::record_error;

namespace {

std::mutex memory_mutex;
std::map<void*, size_t> allocations;
size_t allocated = 0;

}  // namespace

struct sca_emu_event {
    std::chrono::steady_clock::time_point at;
    bool recorded = false;
};

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return record_error(cudaErrorInvalidValue, "the emulator has one device");
    *prop = sca::emu::device_properties();
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (device != 0 || attr != cudaDevAttrMaxSharedMemoryPerBlockOptin)
        return record_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: only MaxSharedMemoryPerBlockOptin of device 0");
    *value = int(sca::emu::kOptinShared);
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
    *version = 12080;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
    *version = 12080;
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return sca::emu::take_error(); }
cudaError_t cudaGetLastError() { return sca::emu::take_error(); }
cudaError_t cudaPeekAtLastError() { return sca::emu::peek_error(); }

cudaError_t cudaMalloc(void** p, size_t bytes) {
    *p = nullptr;
    std::lock_guard lock(memory_mutex);
    const size_t total = sca::emu::device_properties().totalGlobalMem;
    if (bytes > total - allocated) return record_error(cudaErrorMemoryAllocation);
    *p = std::malloc(bytes ? bytes : 1);
    if (!*p) return record_error(cudaErrorMemoryAllocation, "host malloc failed");
    allocations[*p] = bytes;
    allocated += bytes;
    return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
    if (!p) return cudaSuccess;
    std::lock_guard lock(memory_mutex);
    const auto it = allocations.find(p);
    if (it == allocations.end()) return record_error(cudaErrorInvalidDevicePointer, "cudaFree of a pointer cudaMalloc did not return");
    allocated -= it->second;
    allocations.erase(it);
    std::free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
    if (bytes && (!dst || !src)) return record_error(cudaErrorInvalidValue, "cudaMemcpy with a null pointer");
    if (bytes) std::memcpy(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t bytes) {
    if (bytes && !p) return record_error(cudaErrorInvalidValue, "cudaMemset of a null pointer");
    if (bytes) std::memset(p, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
    std::lock_guard lock(memory_mutex);
    *total = sca::emu::device_properties().totalGlobalMem;
    *free = *total - allocated;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
    *e = new sca_emu_event;
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, void*) {
    if (!e) return record_error(cudaErrorInvalidResourceHandle);
    e->at = std::chrono::steady_clock::now();
    e->recorded = true;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? cudaSuccess : record_error(cudaErrorInvalidResourceHandle); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop) {
    if (!start || !stop || !start->recorded || !stop->recorded) return record_error(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
    return cudaSuccess;
}
