// cub::BlockReduce<T, N>::Sum as CUB computes it (BLOCK_REDUCE_WARP_REDUCTIONS,
// the default): each warp sums its 32 values by __shfl_down_sync with offsets
// 1, 2, 4, 8, 16 (lane 0 ends with the balanced pairwise tree), lane 0 of each
// warp stores its sum, a barrier, then thread 0 adds the warp sums in warp
// order. Built on the emulator's own shuffles and barrier, so the meetings are
// checked too. As CUB documents, only thread 0 gets the result: every other
// thread gets NaN here, so a read of it shows. A block of other than N
// threads is an error.
#pragma once
#include <limits>
#include <string>

#include "cuda/emu/device.hpp"

namespace cub {

template <class T, int BLOCK_DIM_X>
class BlockReduce {
    static_assert(BLOCK_DIM_X % 32 == 0, "the emulator models blocks of whole warps");
    static constexpr int kWarps = BLOCK_DIM_X / 32;

public:
    struct TempStorage {
        T warp_aggregates[kWarps];
    };

    explicit BlockReduce(TempStorage& storage) : storage_(storage) {}

    T Sum(T input) {
        const int threads = int(blockDim.x * blockDim.y * blockDim.z);
        if (threads != BLOCK_DIM_X)
            ::sca::emu::this_thread().block->fail("cub::BlockReduce<T, " + std::to_string(BLOCK_DIM_X) +
                                                ">::Sum called by a block of " + std::to_string(threads) + " threads");
        const int tid = ::sca::emu::this_thread().tid, lane = tid % 32;
        T value = input;
        for (int offset = 1; offset < 32; offset *= 2) {
            const T other = __shfl_down_sync(0xffffffffu, value, offset);
            if (lane + offset < 32) value = value + other;
        }
        if (lane == 0) storage_.warp_aggregates[tid / 32] = value;
        __syncthreads();
        if (tid != 0) return std::numeric_limits<T>::quiet_NaN();
        T total = storage_.warp_aggregates[0];
        for (int w = 1; w < kWarps; ++w) total = total + storage_.warp_aggregates[w];
        return total;
    }

private:
    TempStorage& storage_;
};

}  // namespace cub
