// Wall time of full training runs on one CPU core (no file I/O), the figure
// the README's performance table quotes.
//   sca_bench_cpu [CONFIG] [RUNS]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

#include "host/train/backend.hpp"
#include "host/train/blas.hpp"
#include "host/config/config.hpp"

int main(int argc, char** argv) {
    sca::stop_idle_blas_threads();  // as sca does: their spinning would share the machine with the timed thread
    const std::string config = argc > 1 ? argv[1] : SCA_SOURCE_DIR "/experiments/isolated.yaml";
    const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
    std::vector<double> times, cpu_times;
    auto thread_cpu = [] {
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
    };
    float final_recon = 0;
    for (int run = 0; run < runs; ++run) {
        const auto cfg = sca::load_experiment(config, {"seed=" + std::to_string(run)});
        auto backend = sca::make_cpu_backend(cfg);
        std::vector<sca::StepRecord> log;
        log.reserve(cfg.last_step() + 1);
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = thread_cpu();
        backend->train(0, cfg.last_step(), log);
        cpu_times.push_back(thread_cpu() - c0);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        final_recon = backend->validate(cfg.last_step()).recon;
    }
    std::sort(times.begin(), times.end());
    std::sort(cpu_times.begin(), cpu_times.end());
    fmt::print("config {}\nruns {} (seeds 0..{}), steps per run {}\n", config, runs, runs - 1,
               sca::load_experiment(config).last_step() + 1);
    fmt::print("wall time per run: min {:.2f} ms, median {:.2f} ms, max {:.2f} ms\n", times.front() * 1e3,
               times[times.size() / 2] * 1e3, times.back() * 1e3);
    fmt::print("thread CPU time per run: min {:.2f} ms, median {:.2f} ms (unaffected by other processes' load)\n",
               cpu_times.front() * 1e3, cpu_times[cpu_times.size() / 2] * 1e3);
    fmt::print("last run's final validation recon MSE {:.3g}\n", final_recon);
    return 0;
}
