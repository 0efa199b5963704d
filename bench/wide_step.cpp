// ms per training step of a wide model through the CPU backend, against the
// same step's GEMMs alone, with the achieved GFLOP/s and the cores' peak
// (bench/wide.sh runs it next to PyTorch; docs/performance.md, "Wide models").
//   sca_bench_wide CONFIG STEPS [KEY=VALUE ...]
// Prints "name value" lines (times in ms) after a readable summary.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "host/train/backend.hpp"
#include "host/train/blas.hpp"
#include "host/config/config.hpp"
#include "host/config/model_shape.hpp"

namespace {

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of every thread of the process: on a shared machine other
// processes slow the wall clock but not this (BLAS threads included).
double process_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// min (the least disturbed repeat) and median of the wall and CPU times.
struct Times {
    double min = 0, median = 0, cpu_min = 0, cpu_median = 0;
};

template <class Fn>
Times repeat(int n, Fn fn) {
    std::vector<double> t, c;
    for (int i = 0; i < n; ++i) {
        const double t0 = now_ms(), c0 = process_cpu_ms();
        fn(i);
        t.push_back(now_ms() - t0);
        c.push_back(process_cpu_ms() - c0);
    }
    std::sort(t.begin(), t.end());
    std::sort(c.begin(), c.end());
    return {t.front(), t[t.size() / 2], c.front(), c[c.size() / 2]};
}

// The GEMMs of one training step (gemm_layers.hpp's calls: forward, weight
// gradient, input gradient except the first layer's) on scratch buffers.
struct StepGemms {
    std::vector<sca::LinearLayer> layers;
    int B;
    std::vector<float> w, x, y, dx;
    double flops = 0;
    StepGemms(const sca::ModelShape& shape, int batch) : layers(sca::linear_layers(shape)), B(batch) {
        size_t wmax = 0, amax = 0;
        for (const auto& L : layers) {
            wmax = std::max(wmax, size_t(L.in) * L.out);
            amax = std::max(amax, size_t(std::max(L.in, L.out)) * B);
            flops += 2.0 * L.in * L.out * B * (&L == &layers.front() ? 2 : 3);
        }
        w.assign(wmax, 0.01f), x.assign(amax, 0.5f), y.assign(amax, 0.25f), dx.assign(amax, 0.0f);
    }
    void run() {
        for (const auto& L : layers) {
            sca::gemm(false, false, L.out, B, L.in, 1.0f, w.data(), L.in, x.data(), B, 0.0f, y.data(), B);
            sca::gemm(false, true, L.out, L.in, B, 1.0f, y.data(), B, x.data(), B, 1.0f, w.data(), L.in);
            if (&L != &layers.front())
                sca::gemm(true, false, L.in, B, L.out, 1.0f, w.data(), L.in, y.data(), B, 0.0f, dx.data(), B);
        }
    }
};

double cpu_mhz() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("cpu MHz", 0) == 0) return std::stod(line.substr(line.find(':') + 1));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: sca_bench_wide CONFIG STEPS [KEY=VALUE ...]\n");
        return 2;
    }
    const int steps = std::max(3, std::atoi(argv[2]));
    const auto cfg = sca::load_experiment(argv[1], std::vector<std::string>(argv + 3, argv + argc));
    auto backend = sca::make_cpu_backend(cfg);
    std::vector<sca::StepRecord> log;
    backend->train(0, 1, log);  // warm-up: first-touch of every buffer, BLAS threads started
    // Timed steps from the middle of the schedule, where every regularizer
    // has a non-zero weight (a zero weight skips its term).
    const int first = cfg.last_step() / 2;
    const Times step = repeat(steps, [&](int i) { backend->train(first + i, first + i, log); });
    if (log.back().bad_state.size() || !log.back().bad_gradient.empty()) {
        fmt::print(stderr, "training stopped on a non-finite value\n");
        return 1;
    }

    StepGemms gemms(cfg.model, cfg.batch);
    gemms.run();
    const Times gemm = repeat(steps, [&](int) { gemms.run(); });
    const int n = 2048;  // the BLAS's best: one large square SGEMM
    std::vector<float> a(size_t(n) * n, 0.5f), b(a.size(), 0.25f), c(a.size());
    const Times square = repeat(3, [&](int) {
        sca::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    });
    const int threads = sca::blas_threads();
    // AVX2: two 8-wide FMA pipes per core = 32 float FLOPs per cycle (Zen 2+, Haswell+).
    const double peak = threads * cpu_mhz() * 1e-3 * 32;

    fmt::print("model D={} H={} N={} K={}, batch {}, {} parameters\n", cfg.model.input_dim, cfg.model.hidden,
               cfg.model.layers, cfg.model.latent, cfg.batch, sca::parameter_count(cfg.model));
    fmt::print("BLAS: {}, {} thread(s); {} hardware threads\n", sca::blas_name(), threads,
               std::thread::hardware_concurrency());
    fmt::print("training step: min {:.1f} ms, median {:.1f} ms wall; {:.1f} ms CPU (min, all threads) ({} steps)\n",
               step.min, step.median, step.cpu_min, steps);
    fmt::print("its GEMMs alone: {:.1f} ms CPU (min, all threads); step / GEMMs in CPU time {:.2f}\n", gemm.cpu_min,
               step.cpu_min / gemm.cpu_min);
    fmt::print("its GEMMs alone: min {:.1f} ms, median {:.1f} ms ({:.2f} GFLOP, {:.1f} GFLOP/s at the min)\n", gemm.min,
               gemm.median, gemms.flops * 1e-9, gemms.flops * 1e-6 / gemm.min);
    fmt::print("step / GEMMs: {:.2f} (min over min); GEMMs' share of the step {:.0f}%\n", step.min / gemm.min,
               100 * gemm.min / step.min);
    fmt::print("step GFLOP/s (GEMM FLOPs / step time): {:.1f}; one {}^3 SGEMM: {:.1f} GFLOP/s; peak {:.1f} GFLOP/s "
               "({} cores x {:.0f} MHz x 32)\n",
               gemms.flops * 1e-6 / step.min, n, 2.0 * n * n * n * 1e-6 / square.min, peak, threads, cpu_mhz());
    fmt::print("step_ms_min {:.3f}\nstep_ms_median {:.3f}\ngemm_ms_min {:.3f}\ngemm_ms_median {:.3f}\n", step.min,
               step.median, gemm.min, gemm.median);
    fmt::print("step_cpu_ms_min {:.3f}\ngemm_cpu_ms_min {:.3f}\n", step.cpu_min, gemm.cpu_min);
    fmt::print("gemm_gflop {:.4f}\nsquare_gflops {:.2f}\npeak_gflops {:.2f}\n", gemms.flops * 1e-9,
               2.0 * n * n * n * 1e-6 / square.min, peak);
    return 0;
}
