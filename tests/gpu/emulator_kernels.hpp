// Small kernels with deliberate device bugs, run by the emulator's self-test
// (test_emulator.cpp) to show each class of bug is caught. Each returns the
// launch's error (cudaSuccess when it ran) and fills `out` where it says.
#pragma once
#include <cuda_runtime_api.h>

#include <vector>

namespace sca::emu_test {

cudaError_t divergent_barrier();              // thread 0 waits at another __syncthreads than the rest
cudaError_t barrier_after_early_return();     // threads >= 32 return before a __syncthreads
cudaError_t shuffle_in_a_branch();            // half a warp shuffles while the block waits at a barrier
cudaError_t partial_mask_shuffle();           // __shfl_xor_sync with a 16-lane mask
cudaError_t shuffle_in_partial_warp();        // a block of 48 threads shuffles
cudaError_t block_reduce_wrong_size();        // BlockReduce<float, 256> in a block of 128
// BlockReduce<float, 256>::Sum of `in` [256]; out[t] = what thread t got.
cudaError_t block_reduce(const std::vector<float>& in, std::vector<float>& out);
// Reads n_floats of dynamic shared memory never written (launched with `bytes`).
cudaError_t read_dynamic_shared(size_t bytes, int n_floats, std::vector<float>& out);
cudaError_t write_past_dynamic_shared(size_t bytes);  // thread 0 writes the float after the end
// A block of `threads` threads, a grid of `grid_y` in y, `bytes` of dynamic shared memory.
cudaError_t launch_empty(unsigned threads, unsigned grid_y, size_t bytes);
cudaError_t raise_dynamic_shared_limit(int bytes);  // cudaFuncSetAttribute on launch_empty's kernel
// Thread 0 writes a static __shared__ value; after a barrier every thread reads it.
cudaError_t static_shared_broadcast(std::vector<float>& out);

}  // namespace sca::emu_test
