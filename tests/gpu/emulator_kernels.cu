#include "emulator_kernels.hpp"

#include <cub/block/block_reduce.cuh>

#include "cuda/device_seam.hpp"

namespace sca::emu_test {

namespace {

cudaError_t finish() {
    const cudaError_t launch = cudaGetLastError();
    const cudaError_t sync = cudaDeviceSynchronize();
    return launch != cudaSuccess ? launch : sync;
}

__global__ void divergent_barrier_kernel() {
    if (threadIdx.x == 0) {
        __syncthreads();
    } else {
        __syncthreads();
    }
}

__global__ void early_return_kernel(float* out) {
    if (threadIdx.x >= 32) return;
    __syncthreads();
    out[threadIdx.x] = 1.0f;
}

__global__ void shuffle_branch_kernel(float* out) {
    float v = float(threadIdx.x);
    if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
    __syncthreads();
    out[threadIdx.x] = v;
}

__global__ void partial_mask_kernel(float* out) {
    out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, float(threadIdx.x), 1);
}

__global__ void full_mask_kernel(float* out) {
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, float(threadIdx.x), 1);
}

__global__ void block_reduce_kernel(const float* in, float* out) {
    using Reduce = cub::BlockReduce<float, 256>;
    __shared__ typename Reduce::TempStorage storage;
    out[threadIdx.x] = Reduce(storage).Sum(in[threadIdx.x]);
}

__global__ void read_shared_kernel(int n, float* out) {
    SCA_DYNAMIC_SHARED(float, s);
    for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = s[i];
}

__global__ void write_past_kernel(int n_floats) {
    SCA_DYNAMIC_SHARED(float, s);
    if (threadIdx.x == 0) s[n_floats] = 1.0f;
}

__global__ void empty_kernel() {}

__global__ void static_shared_kernel(float* out) {
    __shared__ float value;
    if (threadIdx.x == 0) value = 42.0f;
    __syncthreads();
    out[threadIdx.x] = value;
}

// Device buffers for the results, copied back by `download`.
struct Output {
    explicit Output(size_t n) : n(n) { cudaMalloc(&p, n * sizeof(float)); }
    ~Output() { cudaFree(p); }
    std::vector<float> download() const {
        std::vector<float> h(n);
        cudaMemcpy(h.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost);
        return h;
    }
    size_t n;
    float* p = nullptr;
};

}  // namespace

cudaError_t divergent_barrier() {
    SCA_LAUNCH(divergent_barrier_kernel, 1, 256, 0)();
    return finish();
}

cudaError_t barrier_after_early_return() {
    Output out(256);
    SCA_LAUNCH(early_return_kernel, 1, 256, 0)(out.p);
    return finish();
}

cudaError_t shuffle_in_a_branch() {
    Output out(256);
    SCA_LAUNCH(shuffle_branch_kernel, 1, 256, 0)(out.p);
    return finish();
}

cudaError_t partial_mask_shuffle() {
    Output out(32);
    SCA_LAUNCH(partial_mask_kernel, 1, 32, 0)(out.p);
    return finish();
}

cudaError_t shuffle_in_partial_warp() {
    Output out(48);
    SCA_LAUNCH(full_mask_kernel, 1, 48, 0)(out.p);
    return finish();
}

cudaError_t block_reduce_wrong_size() {
    Output in(128), out(128);
    cudaMemset(in.p, 0, 128 * sizeof(float));
    SCA_LAUNCH(block_reduce_kernel, 1, 128, 0)(in.p, out.p);
    return finish();
}

cudaError_t block_reduce(const std::vector<float>& in, std::vector<float>& out) {
    Output d_in(256), d_out(256);
    cudaMemcpy(d_in.p, in.data(), 256 * sizeof(float), cudaMemcpyHostToDevice);
    SCA_LAUNCH(block_reduce_kernel, 1, 256, 0)(d_in.p, d_out.p);
    const cudaError_t err = finish();
    out = d_out.download();
    return err;
}

cudaError_t read_dynamic_shared(size_t bytes, int n_floats, std::vector<float>& out) {
    Output d_out{size_t(n_floats)};
    SCA_LAUNCH(read_shared_kernel, 1, 64, bytes)(n_floats, d_out.p);
    const cudaError_t err = finish();
    out = d_out.download();
    return err;
}

cudaError_t write_past_dynamic_shared(size_t bytes) {
    SCA_LAUNCH(write_past_kernel, 1, 32, bytes)(int(bytes / sizeof(float)));
    return finish();
}

cudaError_t launch_empty(unsigned threads, unsigned grid_y, size_t bytes) {
    SCA_LAUNCH(empty_kernel, dim3(1, grid_y), threads, bytes)();
    return finish();
}

cudaError_t raise_dynamic_shared_limit(int bytes) {
    return cudaFuncSetAttribute(reinterpret_cast<const void*>(&empty_kernel), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                bytes);
}

cudaError_t static_shared_broadcast(std::vector<float>& out) {
    Output d_out(256);
    SCA_LAUNCH(static_shared_kernel, 1, 256, 0)(d_out.p);
    const cudaError_t err = finish();
    out = d_out.download();
    return err;
}

}  // namespace sca::emu_test
