#include "cuda/emu/thread_block.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace sca::emu {

namespace {

int watchdog_seconds() {
    const char* v = std::getenv("SCA_EMU_WATCHDOG_S");
    const int s = v ? std::atoi(v) : 0;
    return s > 0 ? s : 300;
}

}  // namespace

std::string Site::text() const {
    std::string f = file;
    const size_t slash = f.rfind('/');
    if (slash != std::string::npos) f = f.substr(slash + 1);
    return std::string(what) + " at " + f + ":" + std::to_string(line);
}

ThreadBlock::ThreadBlock(int n_threads, std::string kernel)
    : n_(n_threads),
      kernel_(std::move(kernel)),
      state_(size_t(n_threads), State::Running),
      site_(size_t(n_threads)),
      warps_(new Warp[size_t((n_threads + 31) / 32)]),
      n_warps_((n_threads + 31) / 32),
      live_(n_threads) {}

void ThreadBlock::barrier(int tid, Site site) {
    std::unique_lock lock(mutex_);
    if (aborted_) throw BlockAborted{};
    state_[tid] = State::Barrier;
    site_[tid] = site;
    ++blocked_;
    if (++at_barrier_ == live_) return complete_barrier();
    check_deadlock();
    wait(lock, barrier_generation_);
}

void ThreadBlock::complete_barrier() {
    int first = 0;
    while (state_[first] != State::Barrier) ++first;
    if (exited_ > 0)
        fail_locked(site_[first].text() + " was reached after " + std::to_string(exited_) + " of " + std::to_string(n_) +
                    " threads had exited (they can never arrive); " + where_each_waits());
    for (int t = 0; t < n_; ++t)
        if (!(site_[t] == site_[first]))
            fail_locked("the threads of the block wait at different barriers; " + where_each_waits());
    for (auto& st : state_) st = State::Running;
    blocked_ -= at_barrier_;
    at_barrier_ = 0;
    wake(barrier_generation_);
}

uint64_t ThreadBlock::exchange(int tid, Site site, unsigned mask, uint64_t value, int source) {
    std::unique_lock lock(mutex_);
    if (aborted_) throw BlockAborted{};
    const int w = tid / 32, lane = tid % 32, first = w * 32;
    if (mask != 0xffffffffu)
        fail_locked(site.text() + " (thread " + std::to_string(tid) + "): mask " + std::to_string(mask) +
                    " is not the full warp; the emulator models full-warp shuffles only");
    if (first + 32 > n_)
        fail_locked(site.text() + ": warp " + std::to_string(w) + " has only " + std::to_string(n_ - first) +
                    " threads (block of " + std::to_string(n_) + "); a full-mask shuffle needs 32");
    for (int t = first; t < first + 32; ++t)
        if (state_[t] == State::Exited)
            fail_locked(site.text() + ": lane " + std::to_string(t - first) + " of warp " + std::to_string(w) +
                        " has exited; a full-mask shuffle needs all 32 lanes");
    Warp& W = warps_[w];
    const uint32_t generation = W.generation.load(std::memory_order_relaxed);
    W.slots[generation & 1][lane] = value;
    state_[tid] = State::Shuffle;
    site_[tid] = site;
    ++blocked_;
    if (++W.arrived == 32) {
        for (int t = first; t < first + 32; ++t)
            if (!(site_[t] == site))
                fail_locked("the lanes of warp " + std::to_string(w) + " shuffle at different sites; " + where_each_waits());
        for (int t = first; t < first + 32; ++t) state_[t] = State::Running;
        blocked_ -= 32;
        W.arrived = 0;
        wake(W.generation);
    } else {
        check_deadlock();
        wait(lock, W.generation);
    }
    return W.slots[generation & 1][source & 31];
}

void ThreadBlock::exit(int tid) {
    std::unique_lock lock(mutex_);
    state_[tid] = State::Exited;
    --live_;
    ++exited_;
    ++progress_;
    if (aborted_) return;
    if (at_barrier_ > 0 && at_barrier_ == live_) complete_barrier();
    else check_deadlock();
}

void ThreadBlock::fail(const std::string& why) {
    std::unique_lock lock(mutex_);
    fail_locked(why);
}

void ThreadBlock::fail_locked(const std::string& why) {
    if (!aborted_) {
        aborted_ = true;
        error_ = kernel_ + ": " + why;
    }
    wake(barrier_generation_);
    for (int w = 0; w < n_warps_; ++w) wake(warps_[w].generation);
    throw BlockAborted{};
}

// Every live thread waits and no meeting can complete: nobody will ever move.
void ThreadBlock::check_deadlock() {
    if (live_ > 0 && blocked_ == live_) fail_locked("deadlock: every live thread waits; " + where_each_waits());
}

// Sleeps until the meeting completes (its generation moves on); returns unlocked.
void ThreadBlock::wait(std::unique_lock<std::mutex>& lock, std::atomic<uint32_t>& generation) {
    const uint32_t mine = generation.load(std::memory_order_relaxed);
    lock.unlock();  // woken threads do not queue for the lock again
    generation.wait(mine, std::memory_order_acquire);
    if (aborted_) throw BlockAborted{};
}

void ThreadBlock::wake(std::atomic<uint32_t>& generation) {
    ++progress_;
    generation.fetch_add(1, std::memory_order_release);
    generation.notify_all();
}

void ThreadBlock::watch(BlockCountdown& finished) {
    const int limit = watchdog_seconds();
    uint64_t seen = progress_;
    int still = 0;
    while (!finished.wait_for(std::chrono::milliseconds(5))) {
        if (progress_ != seen) {
            seen = progress_;
            still = 0;
        } else if (++still == limit * 200) {
            std::lock_guard lock(mutex_);
            std::fprintf(stderr, "sca emulator watchdog: %s made no progress for %d s; %s\n", kernel_.c_str(), limit,
                         where_each_waits().c_str());
            std::abort();  // a thread that never reaches a meeting cannot be stopped from here
        }
    }
}

// "threads 0-31: __shfl_xor_sync at f.cu:12; threads 32-255: __syncthreads at f.cu:40".
std::string ThreadBlock::where_each_waits() const {
    auto describe = [&](int t) {
        switch (state_[t]) {
            case State::Running: return std::string("running");
            case State::Exited: return std::string("exited");
            default: return "waiting at " + site_[t].text();
        }
    };
    std::string out = "where each thread is:";
    for (int t = 0; t < n_;) {
        const std::string d = describe(t);
        int e = t;
        while (e + 1 < n_ && describe(e + 1) == d) ++e;
        out += " threads " + std::to_string(t);
        if (e > t) out += std::string("-") + std::to_string(e);
        out += " " + d + ";";
        t = e + 1;
    }
    return out;
}

}  // namespace sca::emu
