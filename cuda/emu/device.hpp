// What device code sees in the emulated build: the CUDA keywords (empty, or
// `static` for __shared__: one object per kernel shared by the block's
// threads, blocks run one after another), the built-in index variables (per
// host thread), __syncthreads and the warp shuffles as checked meetings of the
// block (thread_block.hpp), and the few device functions the kernels call.
#pragma once
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cuda/emu/thread_block.hpp"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

namespace sca::emu {

// The calling thread's indices, block and dynamic shared memory. Reached
// through a function (thread_local storage in launch.cpp), not an extern
// thread_local: UBSan misreads the address of an extern thread_local as null.
struct ThreadContext {
    uint3 thread_index, block_index;
    dim3 block_dim, grid_dim;
    ThreadBlock* block = nullptr;
    int tid = 0;
    void* dynamic_shared = nullptr;
};
ThreadContext& this_thread();

template <class T>
T* dynamic_shared() {
    return static_cast<T*>(this_thread().dynamic_shared);
}

inline void sync_threads(const char* file, int line) {
    ThreadContext& t = this_thread();
    t.block->barrier(t.tid, {"__syncthreads", file, line});
}

template <class T>
T shuffle(const char* what, const char* file, int line, unsigned mask, T value, int source) {
    static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles move at most 64 bits");
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    ThreadContext& t = this_thread();
    bits = t.block->exchange(t.tid, {what, file, line}, mask, bits, source);
    T out;
    std::memcpy(&out, &bits, sizeof(T));
    return out;
}

inline int lane_id() { return this_thread().tid % 32; }

}  // namespace sca::emu

#define threadIdx (::sca::emu::this_thread().thread_index)
#define blockIdx (::sca::emu::this_thread().block_index)
#define blockDim (::sca::emu::this_thread().block_dim)
#define gridDim (::sca::emu::this_thread().grid_dim)
#define __syncthreads() ::sca::emu::sync_threads(__FILE__, __LINE__)
// Lanes beyond the warp's end read their own value, as __shfl_down_sync does.
#define __shfl_xor_sync(mask, value, lane_mask) \
    ::sca::emu::shuffle("__shfl_xor_sync", __FILE__, __LINE__, mask, value, ::sca::emu::lane_id() ^ (lane_mask))
#define __shfl_down_sync(mask, value, delta)                                                                      \
    ::sca::emu::shuffle("__shfl_down_sync", __FILE__, __LINE__, mask, value,                                      \
                        ::sca::emu::lane_id() + (delta) < 32 ? ::sca::emu::lane_id() + (delta) : ::sca::emu::lane_id())

// Device overloads of min and max that CUDA provides in the global namespace.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
