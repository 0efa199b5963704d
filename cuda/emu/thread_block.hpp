// One emulated thread block: its threads meet at __syncthreads barriers and
// warp shuffles through this object. Every meeting is checked (same call
// site, whole block or whole warp, full mask, nobody exited early), and a
// block in which every live thread waits while none can go on is reported as
// a deadlock naming where each thread waits. A watchdog aborts a block that
// makes no progress at all for SCA_EMU_WATCHDOG_S seconds (default 300).
// Waiting threads sleep on an atomic generation counter (a futex), not on
// the block's mutex: a barrier of 256 threads then costs one wake-up each.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace sca::emu {

// Where a thread waits: the source line of the barrier or shuffle.
struct Site {
    const char* what = "";
    const char* file = "";
    int line = 0;
    bool operator==(const Site& o) const { return line == o.line && (file == o.file || std::strcmp(file, o.file) == 0); }
    std::string text() const;
};

// Thrown in every thread of a block once any thread found an error; the
// launch turns it into cudaErrorLaunchFailure with the first error's text.
struct BlockAborted {};

// Counts a block's threads out. The launching thread watches the block while
// it waits here, so no watchdog thread or fixed nap is needed per block.
class BlockCountdown {
public:
    explicit BlockCountdown(int threads) : left_(threads) {}
    // A thread's last touch of its block: notifies under the lock, so the
    // waiter cannot return and destroy this before the call is done with it.
    void arrive() {
        std::lock_guard lock(mutex_);
        if (--left_ == 0) cv_.notify_all();
    }
    // True once every thread arrived; false if `period` passed first.
    template <class Duration>
    bool wait_for(Duration period) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, period, [&] { return left_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int left_;
};

class ThreadBlock {
public:
    ThreadBlock(int n_threads, std::string kernel);

    void barrier(int tid, Site site);
    // Lane tid % 32 offers `value` and gets lane `source`'s; all 32 lanes of
    // the warp must call it from one site with the full mask.
    uint64_t exchange(int tid, Site site, unsigned mask, uint64_t value, int source);
    void exit(int tid);
    // Reports and aborts the process if the block makes no progress for the
    // watchdog's time; returns once every thread arrived at `finished`.
    void watch(BlockCountdown& finished);
    // Records the first error and wakes everyone; throws BlockAborted.
    [[noreturn]] void fail(const std::string& why);
    const std::string& error() const { return error_; }

private:
    enum class State { Running, Barrier, Shuffle, Exited };
    struct Warp {
        int arrived = 0;
        std::atomic<uint32_t> generation{0};
        uint64_t slots[2][32] = {};
    };
    void wait(std::unique_lock<std::mutex>& lock, std::atomic<uint32_t>& generation);
    void wake(std::atomic<uint32_t>& generation);
    void complete_barrier();
    void check_deadlock();
    [[noreturn]] void fail_locked(const std::string& why);
    std::string where_each_waits() const;

    std::mutex mutex_;
    const int n_;
    const std::string kernel_;
    std::vector<State> state_;
    std::vector<Site> site_;
    std::unique_ptr<Warp[]> warps_;  // a shuffle wakes only its warp's lanes
    const int n_warps_;
    int live_, blocked_ = 0, exited_ = 0, at_barrier_ = 0;
    std::atomic<uint32_t> barrier_generation_{0};
    std::atomic<uint64_t> progress_{0};
    std::atomic<bool> aborted_{false};
    std::string error_;
};

}  // namespace sca::emu
