// Large batches on one CPU core: the isolated setup's training step at batch
// B (steps 750.., where every term is on), and the separation term alone
// with its arithmetic rate against the core's FP32 peak (AVX2: two 8-lane
// FMA units, 32 FLOP per cycle, 16 on Zen 1; the build targets x86-64-v3).
//   sca_bench_large_batch B [STEPS]
// Prints one JSON object (bench/compare.py reads it).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "host/train/backend.hpp"
#include "host/config/config.hpp"
#include "host/train/separation_cpu.hpp"

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// The clock /proc/cpuinfo reports for the first core, in Hz (0 if unknown).
double core_hz() {
    std::ifstream f("/proc/cpuinfo");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("cpu MHz", 0) == 0) return std::stod(line.substr(line.find(':') + 1)) * 1e6;
    return 0;
}

// FP32 FLOP per cycle of one core for AVX2 code: two 8-lane FMA units (32),
// except AMD Zen 1 and Zen+ (family 23, models below 0x30), whose FP units
// are 128 bits wide and split each 256-bit operation in two (16).
int flop_per_cycle() {
    std::ifstream f("/proc/cpuinfo");
    bool amd = false;
    int family = -1, model = -1;
    for (std::string line; std::getline(f, line) && (family < 0 || model < 0);) {
        const auto value = line.substr(line.find(':') + 1);
        if (line.rfind("vendor_id", 0) == 0) amd = value.find("AuthenticAMD") != std::string::npos;
        else if (line.rfind("cpu family", 0) == 0) family = std::stoi(value);
        else if (line.rfind("model", 0) == 0 && line.rfind("model name", 0) != 0) model = std::stoi(value);
    }
    return amd && family == 23 && model >= 0 && model < 0x30 ? 16 : 32;
}

// Executed operations of one visited pair (each unordered pair once, feeding
// both rows): dot 2K, shift 2, power by squaring, dfdc 2, both rows' g 6 and du 4K.
double ops_per_pair(int K, int power) {
    int pow_ops = 1;
    for (int n = power - 1; n > 0; n >>= 1) pow_ops += 1 + (n & 1);
    return 6.0 * K + 2 + pow_ops + 2 + 6;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        fmt::print(stderr, "usage: sca_bench_large_batch B [STEPS]\n");
        return 2;
    }
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ, as the CPU backend trains (c'^100 underflows)
#endif
    const int B = std::atoi(argv[1]);
    const int steps = argc > 2 ? std::atoi(argv[2]) : 3;
    const auto cfg = sca::load_experiment(SCA_SOURCE_DIR "/experiments/isolated.yaml", {"data.batch=" + std::to_string(B)});
    auto backend = sca::make_cpu_backend(cfg);
    std::vector<sca::StepRecord> log;
    backend->train(749, 749, log);  // warm-up
    double best_step = 1e30;
    for (int s = 0; s < steps; ++s) {
        const double t0 = now();
        backend->train(750 + s, 750 + s, log);
        best_step = std::min(best_step, now() - t0);
    }

    const int K = cfg.model.latent;
    std::mt19937 rng(B);
    std::normal_distribution<float> normal;
    std::vector<float> z(size_t(B) * K), w(B, 1.0f / float(B)), dz(z.size(), 0.0f);
    for (auto& v : z) v = normal(rng);
    sca::RegParams p;
    p.power = 100;
    p.shift = true;
    sca::SeparationCpu<float> sep(B, K);
    double best_sep = 1e30;
    for (int r = 0; r < std::max(2, steps); ++r) {
        const double t0 = now();
        sep.loss_and_grad(p, z.data(), w.data(), B, 0.01f, dz.data());
        best_sep = std::min(best_sep, now() - t0);
    }
    const double ops = ops_per_pair(K, p.power) * double(B) * double(B - 1) / 2;
    const int per_cycle = flop_per_cycle();
    const double hz = core_hz(), peak = per_cycle * hz;
    fmt::print("{{\"batch\": {}, \"step_ms\": {:.3f}, \"separation_ms\": {:.3f}, \"separation_gflops\": {:.3f}, "
               "\"core_ghz\": {:.3f}, \"flop_per_cycle\": {}, \"peak_gflops\": {:.1f}, \"fraction_of_peak\": {:.4f}}}\n",
               B, best_step * 1e3, best_sep * 1e3, ops / best_sep * 1e-9, hz * 1e-9, per_cycle, peak * 1e-9,
               peak > 0 ? ops / best_sep / peak : 0.0);
    return 0;
}
