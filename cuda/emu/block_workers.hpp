// The OS threads that play a block's CUDA threads, kept between blocks and
// launches. A thread per CUDA thread per block, created and joined each time,
// cost most of the emulated suite's time (a stack to fault in and a clone for
// every thread of every block); these are made once, as many as the largest
// block needs, and handed each block's work.
#pragma once
#include <functional>

namespace sca::emu {

// Runs work(tid) for tid = 0..n-1, each on its own worker thread, all at once
// (the block's threads meet at barriers, so they must run concurrently).
// Returns at once: `work` must outlive every call, so each call ends by
// signalling the caller, who waits for all n before returning. One block at
// a time: launches hold launch_mutex.
void start_block_threads(int n, const std::function<void(int)>& work);

}  // namespace sca::emu
