// GPU figures (not timed tests), printed and written as JSON:
//   1. one isolated run of 1501 steps, single model: wall time (GPU and CPU);
//   2. M isolated models at once, M = 1, 64, 1024, 4096 (more if given):
//      total wall time and model-steps per second;
//   3. the tiled separation term alone, B = 64 ... 16384: time and FLOP/s
//      against the GPU's FP32 peak (SMs x 128 lanes x 2 x clock).
//   sca_bench_gpu OUT.json [MAX_M]
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "cuda/multi_model.hpp"
#include "cuda/separation_tiled.hpp"
#include "host/train/backend.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    const std::string out_path = argc > 1 ? argv[1] : "bench_gpu.json";
    const int max_m = argc > 2 ? std::atoi(argv[2]) : 4096;
    const std::string why = sca::cuda::device_unavailable_reason();
    if (!why.empty()) {
        std::fprintf(stderr, "sca_bench_gpu: %s\n", why.c_str());
        return 77;
    }
    nlohmann::ordered_json j;
    j["device"] = sca::cuda::device_description();
    const std::string config = SCA_SOURCE_DIR "/experiments/isolated.yaml";
    const auto cfg = sca::load_experiment(config);
    const int T = cfg.last_step();

    // 1. Single run, GPU (median of 5 after a warm-up) and CPU (one run).
    {
        std::vector<double> times;
        float recon = 0;
        for (int rep = 0; rep < 6; ++rep) {
            sca::cuda::MultiModelTrainer one({cfg});
            cudaDeviceSynchronize();
            const auto t0 = std::chrono::steady_clock::now();
            one.train(0, T);
            if (rep > 0) times.push_back(seconds_since(t0));
            recon = float(one.validate(0, T).recon);
        }
        std::sort(times.begin(), times.end());
        auto cpu = sca::make_cpu_backend(cfg);
        std::vector<sca::StepRecord> log;
        const auto t0 = std::chrono::steady_clock::now();
        cpu->train(0, T, log);
        const double cpu_s = seconds_since(t0);
        fmt::print("single isolated run, {} steps: GPU {:.2f} ms (median of 5), CPU {:.1f} ms; GPU val recon {:.3g}\n",
                   T + 1, times[2] * 1e3, cpu_s * 1e3, recon);
        j["single_run"] = {{"steps", T + 1}, {"gpu_ms", times[2] * 1e3}, {"cpu_ms", cpu_s * 1e3}, {"gpu_val_recon", recon}};
    }

    // 2. M models at once (each its own seed).
    j["many_models"] = nlohmann::ordered_json::array();
    for (int M = 1; M <= max_m; M *= (M == 1 ? 64 : 4)) {
        std::vector<sca::ExperimentConfig> configs;
        for (int m = 0; m < M; ++m) {
            configs.push_back(cfg);
            configs.back().seed = m;
        }
        sca::cuda::MultiModelTrainer many(configs);
        cudaDeviceSynchronize();
        const auto t0 = std::chrono::steady_clock::now();
        many.train(0, T);
        const double s = seconds_since(t0);
        const double rate = double(M) * (T + 1) / s;
        fmt::print("M = {:5d} isolated models x {} steps: {:.3f} s, {:.3g} model-steps/s, {:.3f} ms per model\n", M,
                   T + 1, s, rate, s * 1e3 / M);
        j["many_models"].push_back({{"models", M}, {"seconds", s}, {"model_steps_per_s", rate}, {"ms_per_model", s * 1e3 / M}});
    }

    // 3. Separation term alone.
    int device = 0, sms = 0, clock_khz = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
    const double peak = double(sms) * 128 * 2 * clock_khz * 1e3;
    j["fp32_peak_flops"] = peak;
    j["separation"] = nlohmann::ordered_json::array();
    for (int B = 64; B <= 16384; B *= 2) {
        const int K = 5;
        std::mt19937 rng(B);
        std::normal_distribution<float> normal;
        std::vector<float> z(size_t(B) * K), omega(B, 1.0f / B);
        for (auto& v : z) v = normal(rng);
        sca::cuda::DeviceSeparation sep({B, K, 100, true, 0.01f}, z, omega);
        const int reps = B <= 1024 ? 200 : 20;
        const double ms = sep.time_ms(reps);
        const double flops = sep.flops() / (ms * 1e-3);
        fmt::print("separation B = {:5d}, K = {}: {:.4f} ms, {:.3g} FLOP/s = {:.1f}% of FP32 peak {:.3g}\n", B, K, ms,
                   flops, 100 * flops / peak, peak);
        j["separation"].push_back({{"batch", B}, {"latent", K}, {"ms", ms}, {"flops_per_s", flops},
                                   {"fraction_of_peak", flops / peak}, {"splits", sep.splits()}});
    }
    std::ofstream(out_path) << j.dump(2) << "\n";
    fmt::print("wrote {}\n", out_path);
    return 0;
}
