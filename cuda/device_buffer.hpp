// Device memory owned like a std::vector: freed when the owner goes, also
// when a constructor throws halfway through allocating its buffers. An
// allocation that does not fit says how much it wanted for what and how much
// the device has free.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_check.hpp"

namespace sca::cuda {

// Thrown when device memory runs out; the message says what would fit.
class DeviceMemoryError : public CudaError {
public:
    using CudaError::CudaError;
};

inline std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

// Free and total bytes of the current device.
inline std::pair<size_t, size_t> device_memory() {
    size_t free = 0, total = 0;
    SCA_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return {free, total};
}

template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(size_t n, const char* what) : n_(n) {
        if (n == 0) return;
        const cudaError_t err = cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T));
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError();  // not sticky: clear it so the message's own query works
            const auto [free, total] = device_memory();
            throw DeviceMemoryError(std::string("out of device memory: ") + what + " needs " + mib(n * sizeof(T)) +
                                    ", " + mib(free) + " of " + mib(total) + " are free");
        }
        check(err, (std::string("cudaMalloc for ") + what).c_str(), __FILE__, __LINE__);
    }
    DeviceBuffer(const std::vector<T>& host, const char* what) : DeviceBuffer(host.size(), what) { upload(host); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* get() const { return p_; }
    size_t size() const { return n_; }
    void upload(const std::vector<T>& host) {
        if (host.size() > n_) throw CudaError("DeviceBuffer::upload: more elements than the buffer holds");
        if (!host.empty()) SCA_CUDA_CHECK(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
    }
    std::vector<T> download() const {
        std::vector<T> host(n_);
        if (n_) SCA_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
        return host;
    }

private:
    // A destructor cannot throw: a failed free (a device already in an error
    // state after a fault) is reported on stderr instead of being dropped.
    void release() noexcept {
        if (!p_) return;
        const cudaError_t err = cudaFree(p_);
        if (err != cudaSuccess && err != cudaErrorCudartUnloading)
            std::fprintf(stderr, "warning: cudaFree failed: %s\n", cudaGetErrorString(err));
        p_ = nullptr;
        n_ = 0;
    }

    T* p_ = nullptr;
    size_t n_ = 0;
};

// A CUDA event with the same ownership.
class DeviceEvent {
public:
    DeviceEvent() { SCA_CUDA_CHECK(cudaEventCreate(&e_)); }
    ~DeviceEvent() {
        const cudaError_t err = cudaEventDestroy(e_);
        if (err != cudaSuccess && err != cudaErrorCudartUnloading)
            std::fprintf(stderr, "warning: cudaEventDestroy failed: %s\n", cudaGetErrorString(err));
    }
    DeviceEvent(const DeviceEvent&) = delete;
    DeviceEvent& operator=(const DeviceEvent&) = delete;
    cudaEvent_t get() const { return e_; }

private:
    cudaEvent_t e_ = nullptr;
};

}  // namespace sca::cuda
