#include "cuda/emu/errors.hpp"

#include <cstdio>
#include <map>
#include <mutex>

namespace sca::emu {

namespace {

std::mutex mutex;
cudaError_t pending = cudaSuccess;
std::map<int, std::string> texts;  // code -> CUDA's text plus the last detail

const char* base_text(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorCudartUnloading: return "driver shutting down";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInvalidDevicePointer: return "invalid device pointer";
        case cudaErrorInvalidDeviceFunction: return "invalid device function";
        case cudaErrorNoKernelImageForDevice: return "no kernel image is available for execution on the device";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unknown error";
}

}  // namespace

cudaError_t record_error(cudaError_t err, const std::string& detail) {
    std::lock_guard lock(mutex);
    if (pending == cudaSuccess) pending = err;
    texts[err] = detail.empty() ? base_text(err) : std::string(base_text(err)) + " (emulator: " + detail + ")";
    return err;
}

cudaError_t take_error() {
    std::lock_guard lock(mutex);
    const cudaError_t err = pending;
    pending = cudaSuccess;
    return err;
}

cudaError_t peek_error() {
    std::lock_guard lock(mutex);
    return pending;
}

std::string last_detail(cudaError_t err) {
    std::lock_guard lock(mutex);
    const auto it = texts.find(err);
    return it == texts.end() ? base_text(err) : it->second;
}

}  // namespace sca::emu

const char* cudaGetErrorString(cudaError_t err) {
    static thread_local std::string text;  // valid until this thread's next call, like a static buffer
    text = sca::emu::last_detail(err);
    return text.c_str();
}
