// GPU figures (not timed tests), printed and written as JSON:
//   1. one isolated run of 1501 steps, single model: wall time (GPU and CPU);
//   2. M isolated models at once, M = 1, 64, 1024, 4096 (more if given):
//      total wall time and model-steps per second;
//   3. the tiled separation term alone, B = 64 ... 16384: time and FLOP/s
//      against the GPU's FP32 peak (SMs x 128 lanes x 2 x clock);
//   4. the cuBLAS path on a wide model, 768 -> 1024 -> 1024 -> 16 (2 hidden
//      layers per side), B = 1024, on synthetic data from a file: ms per
//      step for M = 1 (plain GEMMs) and M = 8 (strided batched), the GEMMs'
//      achieved FLOP/s against the FP32 peak.
//   sca_bench_gpu OUT.json [MAX_M]
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "cuda/multi_model.hpp"
#include "cuda/separation_tiled.hpp"
#include "host/io/atomic_file.hpp"
#include "host/train/backend.hpp"
#include "host/io/npy.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The wide model's config, on 4096 synthetic samples of 768 features with
// one concept label, written to a scratch directory.
sca::ExperimentConfig wide_config(const std::filesystem::path& dir) {
    const int N = 4096, D = 768;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> x(size_t(N) * D), concept_p(N);
    for (auto& v : x) v = normal(rng);
    for (int i = 0; i < N; ++i) concept_p[i] = x[size_t(i) * D] > 1.0f ? 1.0f : 0.0f;
    std::filesystem::create_directories(dir);
    sca::save_npy((dir / "x.npy").string(), {N, D}, x);
    sca::save_npy((dir / "concept.npy").string(), {N}, concept_p);
    sca::write_file_atomic((dir / "wide.yaml").string(),
                           "model: {latent: 16, hidden: 1024, layers: 2}\n"
                           "data: {inputs: x.npy, batch: 1024}\n"
                           "labels:\n  concept: {file: concept.npy}\n"
                           "regularizers:\n"
                           "  - {name: separate, kind: separate, power: 100, shift: true}\n"
                           "  - {name: anchor, kind: anchor, axis: 0, labels: {concept: 1}}\n"
                           "schedule: {keyframes: [{step: 0, lr: 0.001, separate: 0.01, anchor: 0.1}, {step: 200, lr: 0.001}]}\n");
    return sca::load_experiment((dir / "wide.yaml").string());
}

// FLOPs of one step's GEMMs: forward W X, backward dW and dX (none for the input layer).
double gemm_flops(const sca::ExperimentConfig& cfg) {
    double f = 0;
    const auto layers = sca::linear_layers(cfg.model);
    for (size_t l = 0; l < layers.size(); ++l)
        f += 2.0 * cfg.batch * layers[l].in * layers[l].out * (l == 0 ? 2 : 3);
    return f;
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
    // 4. The cuBLAS path on a wide model.
    {
        const auto dir = std::filesystem::temp_directory_path() / ("sca-bench-wide-" + std::to_string(::getpid()));
        const auto wide = wide_config(dir);
        const double flops = gemm_flops(wide);
        j["wide"] = nlohmann::ordered_json::array();
        for (const int M : {1, 8}) {
            std::vector<sca::ExperimentConfig> configs;
            for (int m = 0; m < M; ++m) {
                configs.push_back(wide);
                configs.back().seed = m;
            }
            sca::cuda::MultiModelTrainer trainer(configs);
            trainer.train(0, 4);  // warm-up: cuBLAS picks its kernels
            std::vector<double> times;
            for (int rep = 0; rep < 5; ++rep) {
                const int first = 5 + rep * 20;
                const auto t0 = std::chrono::steady_clock::now();
                trainer.train(first, first + 19);  // ends with a device synchronization
                times.push_back(seconds_since(t0) * 1e3 / 20);
            }
            std::sort(times.begin(), times.end());
            const double ms = times[2], gemm_rate = flops * M / (ms * 1e-3);
            fmt::print("wide 768-1024-1024-16, B = 1024, M = {} ({} path): {:.3f} ms per step ({:.3f} ms per model-step), "
                       "GEMMs at {:.3g} FLOP/s = {:.1f}% of FP32 peak\n",
                       M, trainer.path(), ms, ms / M, gemm_rate, 100 * gemm_rate / peak);
            j["wide"].push_back({{"models", M}, {"path", trainer.path()}, {"ms_per_step", ms},
                                 {"ms_per_model_step", ms / M}, {"gemm_flops_per_step", flops * M},
                                 {"gemm_flops_per_s", gemm_rate}, {"gemm_fraction_of_peak", gemm_rate / peak}});
        }
        std::filesystem::remove_all(dir);
    }
    std::ofstream(out_path) << j.dump(2) << "\n";
    fmt::print("wrote {}\n", out_path);
    return 0;
}
