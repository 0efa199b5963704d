// Runs `work` on n threads and waits for all of them. A thread that cannot be
// created is an error (the ones already started finish first), never a
// std::terminate from destroying a joinable thread.
#pragma once
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace sca {

// The most threads `--jobs` may ask for.
inline constexpr int kMaxJobs = 1024;

inline void run_threads(int n, const std::function<void()>& work) {
    std::vector<std::thread> pool;
    std::string failure;
    for (int t = 0; t < n; ++t) {
        try {
            pool.emplace_back(work);
        } catch (const std::system_error& e) {
            failure = "cannot start thread " + std::to_string(t + 1) + " of " + std::to_string(n) + ": " + e.what() +
                      " (ask for fewer with --jobs)";
            break;
        }
    }
    for (auto& t : pool) t.join();
    if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace sca
