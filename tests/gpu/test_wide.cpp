// The cuBLAS training path (cuda/wide_trainer.hpp) against the CPU backend,
// the oracle: every loss term, the total and every gradient tensor on the
// same weights and batch; several training steps' losses and the weights
// they end with; on a wide-ish shape from files (D = 64, H = 96, B = 64) and
// on the paper's small shape. Plus the routing between the fused kernel and
// this path, and its refusals. Each comparison prints how much of its
// tolerance it used.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cpu_reference.hpp"
#include "cuda/blas_handle.hpp"
#include "cuda/multi_model.hpp"
#include "emulation.hpp"
#include "host/io/atomic_file.hpp"
#include "host/train/backend.hpp"
#include "host/config/dataset.hpp"
#include "host/io/npy.hpp"

using namespace sca;
namespace fs = std::filesystem;

namespace {

// Loss terms: the GEMMs sum 64-96 products in another order than the CPU's
// loops, and the batch sums are a CUB tree against a serial sum.
constexpr double kLossRel = 1e-4, kLossAbs = 1e-7;
// Gradients, per tensor, relative to the tensor's largest entry.
constexpr double kGradRel = 1e-3, kGradAbs = 1e-9;
// Logged losses over a few steps (one step's differences feed the next), and
// the weights they end with, per tensor against its largest entry.
constexpr double kStepRel = 1e-3, kStepAbs = 1e-6;
constexpr double kWeightRel = 1e-4, kWeightAbs = 1e-7;

double used(double a, double b, double scale, double rel, double abs) { return std::fabs(a - b) / (rel * scale + abs); }

// N samples of D features with structure (a few directions plus noise), a
// concept label file and the config training on them.
struct WideData {
    fs::path dir;
    explicit WideData(int D, int N = 256) {
        dir = fs::temp_directory_path() /
              ("sca-wide " + std::to_string(::getpid()) + "-" + std::to_string(D) + "x" + std::to_string(N));
        fs::create_directories(dir);
        std::mt19937 rng(7);
        std::normal_distribution<float> normal;
        std::vector<float> basis(size_t(4) * D), x(size_t(N) * D), concept_p(static_cast<size_t>(N));
        for (auto& v : basis) v = normal(rng);
        for (int i = 0; i < N; ++i) {
            float c[4];
            for (float& v : c) v = normal(rng);
            for (int d = 0; d < D; ++d) {
                float s = 0.1f * normal(rng);
                for (int q = 0; q < 4; ++q) s += 0.3f * c[q] * basis[size_t(q) * D + d];
                x[size_t(i) * D + d] = s;
            }
            concept_p[size_t(i)] = c[0] > 0.5f ? 0.9f : 0.0f;
        }
        save_npy((dir / "x.npy").string(), {N, D}, x);
        save_npy((dir / "concept.npy").string(), {N}, concept_p);
    }
    ~WideData() { fs::remove_all(dir); }
    ExperimentConfig config(int hidden, int layers, int batch, const std::vector<std::string>& overrides = {}) const {
        const std::string text =
            "seed: 3\nmodel: {latent: 4, hidden: " + std::to_string(hidden) + ", layers: " + std::to_string(layers) +
            "}\ndata: {inputs: x.npy, batch: " + std::to_string(batch) +
            "}\nlabels:\n  concept: {file: concept.npy}\n"
            "regularizers:\n"
            "  - {name: separate, kind: separate, power: 10, shift: true, labels: {concept: 1}}\n"
            "  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0], labels: {concept: 1}}\n"
            "  - {name: subspace, kind: subspace, dims: [0, 1]}\n"
            "  - {name: unit, kind: unitarity}\n"
            "schedule:\n  keyframes:\n"
            "    - {step: 0, lr: 0.001, separate: 0.02, anchor: 0.1, subspace: 0.01, unit: 0.01}\n"
            "    - {step: 40, lr: 0.001}\n";
        write_file_atomic((dir / "wide.yaml").string(), text);
        return load_experiment((dir / "wide.yaml").string(), overrides);
    }
};

// Every term and gradient tensor of the cuBLAS path against the CPU objective
// on step `step`'s batch (drawn on the device, checked equal to the CPU's).
double compare_evaluation(const ExperimentConfig& cfg, const TrainState& state, int step) {
    cuda::MultiModelTrainer gpu({cfg}, cuda::TrainPath::Cublas);
    REQUIRE(gpu.path() == "cublas");
    gpu.load_state(0, state);
    const TrainingData data = training_data(cfg);
    Batch batch;
    draw_batch(cfg.seed, step, cfg.batch, data.points.data(), data.size(), data.dim, data.probabilities,
               int(cfg.labels.size()), batch);
    const std::vector<float> weights(cfg.regularizers.size(), 0.5f);
    const auto drawn = gpu.evaluate(0, step, nullptr, nullptr, weights, true);
    REQUIRE(drawn.points == batch.points);
    REQUIRE(drawn.x == batch.x);
    REQUIRE(drawn.labels == batch.labels);
    const auto dev = gpu.evaluate(0, step, batch.x.data(), batch.labels.data(), weights, true);

    const auto cpu = gpu_test::cpu_reference(cfg, state.params, batch, weights);
    const auto& ref = cpu.terms;
    double worst = 0;
    auto check_loss = [&](const std::string& name, double a, double b) {
        const double u = used(a, b, std::fabs(b), kLossRel, kLossAbs);
        std::printf("  %-22s cuBLAS %.8g CPU %.8g: %5.1f%% of tolerance\n", name.c_str(), a, b, 100 * u);
        CHECK(u <= 1.0);
        worst = std::max(worst, u);
    };
    std::printf("%s, step %d:\n", cfg.source.c_str(), step);
    check_loss("recon", dev.recon, ref.recon);
    for (size_t r = 0; r < cfg.regularizers.size(); ++r) check_loss(cfg.regularizers[r].name, dev.reg[r], ref.reg[r]);
    check_loss("total", dev.total, ref.total);
    REQUIRE(dev.grad.size() == cpu.grad.size());
    for (const auto& t : gpu_test::tensor_usage(cfg, dev.grad, cpu.grad, kGradRel, kGradAbs)) {
        std::printf("  grad %-17s of max |g| %.3g: %5.1f%% of tolerance\n", t.name.c_str(), t.scale, 100 * t.used);
        CHECK(t.used <= 1.0);
        worst = std::max(worst, t.used);
    }
    return worst;
}

// `steps` steps on the CPU backend and on the cuBLAS path from the same
// state: every logged loss, then every weight tensor.
void compare_training(const ExperimentConfig& cfg, int steps) {
    auto cpu = make_cpu_backend(cfg);
    cpu->load_state(initial_state(cfg));
    std::vector<StepRecord> c;
    cpu->train(0, steps - 1, c);
    cuda::MultiModelTrainer gpu({cfg}, cuda::TrainPath::Cublas);
    std::vector<std::vector<StepRecord>> g;
    gpu.train(0, steps - 1, &g);
    REQUIRE(c.size() == size_t(steps));
    REQUIRE(g[0].size() == size_t(steps));
    double worst = 0;
    for (int t = 0; t < steps; ++t) {
        worst = std::max(worst, used(g[0][t].recon, c[t].recon, std::fabs(c[t].recon), kStepRel, kStepAbs));
        worst = std::max(worst, used(g[0][t].total, c[t].total, std::fabs(c[t].total), kStepRel, kStepAbs));
        for (size_t r = 0; r < c[t].reg.size(); ++r) {
            REQUIRE(std::isnan(g[0][t].reg[r]) == std::isnan(c[t].reg[r]));
            if (!std::isnan(c[t].reg[r]))
                worst = std::max(worst, used(g[0][t].reg[r], c[t].reg[r], std::fabs(c[t].reg[r]), kStepRel, kStepAbs));
        }
    }
    std::printf("%s: %d steps' logged losses, worst %.1f%% of tolerance (rel %.0e)\n", cfg.source.c_str(), steps,
                100 * worst, kStepRel);
    CHECK(worst <= 1.0);
    double wworst = 0;
    std::string where;
    for (const auto& t : gpu_test::tensor_usage(cfg, gpu.params(0), cpu->state().params, kWeightRel, kWeightAbs))
        if (t.used >= wworst) wworst = t.used, where = t.name;
    std::printf("  weights after %d steps: worst tensor (%s) %.1f%% of tolerance (rel %.0e of its max)\n", steps,
                where.c_str(), 100 * wworst, kWeightRel);
    CHECK(wworst <= 1.0);
    CHECK(gpu.state(0).next_step == steps);
}

}  // namespace

TEST_CASE("cuBLAS path: every term and gradient match the CPU on a wide-ish shape from files", "[gpu][wide]") {
    const WideData data(64);
    for (const int layers : {1, 2}) {
        const ExperimentConfig cfg = data.config(96, layers, 64);
        TrainState state = initial_state(cfg);
        compare_evaluation(cfg, state, 0);
        compare_evaluation(cfg, state, 7);
    }
}

TEST_CASE("cuBLAS path: the paper's small shape matches the CPU", "[gpu][wide]") {
    const auto cfg = load_experiment(std::string(SCA_SOURCE_DIR) + "/experiments/anchored.yaml");
    compare_evaluation(cfg, initial_state(cfg), 3);
}

TEST_CASE("cuBLAS path: a 64-wide latent (past the fused kernel's limit) matches the CPU", "[gpu][wide][latent]") {
    std::string dir = "[";
    for (int k = 0; k < 64; ++k) dir += std::string(k ? "," : "") + (k == 40 ? "1" : k == 2 ? "0.5" : "0");
    const ExperimentConfig cfg = parse_experiment(
        "seed: 2\nmodel: {latent: 64, hidden: 6, layers: 1}\ndata: {grid: 4, batch: 8}\n"
        "labels:\n  red: {function: redness, power: 2, scale: 0.5}\n"
        "regularizers:\n"
        "  - {name: separate, kind: separate, power: 10}\n"
        "  - {name: anchor, kind: anchor, direction: " + dir + "]}\n"
        "  - {name: anti, kind: anti-anchor, axis: 50, hemi: false}\n"
        "  - {name: subspace, kind: subspace, dims: [1, 33, 63]}\n"
        "  - {name: unit, kind: unitarity}\n"
        "schedule: {keyframes: [{step: 0, lr: 0.01, separate: 0.1, anchor: 0.1, anti: 0.1, subspace: 0.1, unit: 0.1}]}\n",
        "latent64.yaml");
    CHECK_THAT(cuda::fused_refusal(cfg), Catch::Contains("model.latent") && Catch::Contains("at most 32"));
    compare_evaluation(cfg, initial_state(cfg), 1);  // on the cuBLAS path, where fused_refusal sends it
}

TEST_CASE("cuBLAS path: several training steps match the CPU backend, losses and weights", "[gpu][wide][training]") {
    const WideData data(64);
    compare_training(data.config(96, 1, 64), gpu_test::sized(10, 6));
    const auto isolated = load_experiment(std::string(SCA_SOURCE_DIR) + "/experiments/isolated.yaml");
    compare_training(isolated, gpu_test::sized(20, 4));
}

TEST_CASE("cuBLAS path: reruns are bit-identical and M models match M single runs", "[gpu][wide][determinism]") {
    const WideData data(64);
    std::vector<ExperimentConfig> configs;
    for (int s = 0; s < 3; ++s) configs.push_back(data.config(96, 1, 64, {"seed=" + std::to_string(s)}));
    const int steps = gpu_test::sized(10, 3);
    cuda::MultiModelTrainer many(configs), again(configs);
    REQUIRE(many.path() == "cublas");
    many.train(0, steps - 1);
    again.train(0, steps - 1);
    for (int m = 0; m < 3; ++m) {
        CHECK(many.params(m) == again.params(m));
        cuda::MultiModelTrainer one({configs[m]});
        one.train(0, steps - 1);
        // The emulator computes each model's GEMM alone, so the bits agree; a
        // GPU's cuBLAS may pick another kernel for another batch count.
        if (gpu_test::kEmulated) CHECK(many.params(m) == one.params(0));
        for (const auto& t : gpu_test::tensor_usage(configs[m], many.params(m), one.params(0), kWeightRel, kWeightAbs))
            CHECK(t.used <= 1.0);
    }
}

TEST_CASE("the fused kernel keeps the paper's shapes and the rest takes the cuBLAS path", "[gpu][wide][routing]") {
    const auto isolated = load_experiment(std::string(SCA_SOURCE_DIR) + "/experiments/isolated.yaml");
    CHECK(cuda::fused_refusal(isolated).empty());
    CHECK(cuda::MultiModelTrainer({isolated}).path() == "fused");
    const WideData data(64);
    const auto from_files = data.config(96, 1, 64);
    CHECK_THAT(cuda::fused_refusal(from_files), Catch::Contains("data.inputs"));
    CHECK(cuda::MultiModelTrainer({from_files}).path() == "cublas");
    // Too wide for one block's shared memory (or the fused kernel's limits).
    const auto wide = load_experiment(std::string(SCA_SOURCE_DIR) + "/experiments/isolated.yaml",
                                      {"model.hidden=512", "data.batch=256"});
    CHECK_THAT(cuda::fused_refusal(wide), Catch::Contains("shared memory"));
    CHECK(cuda::MultiModelTrainer({wide}).path() == "cublas");
    // Configs on different data never share a trainer.
    const WideData other(64, 128);
    CHECK_THAT(cuda::incompatibility(from_files, other.config(96, 1, 64)), Catch::Contains("data.inputs"));
}

TEST_CASE("cuBLAS path: a group too large for the device is refused before allocating", "[gpu][wide][memory]") {
    const WideData data(64);
    const auto cfg = data.config(1024, 4, 4096);  // ~5 M parameters, 4096-sample batches: ~0.2 GiB a model
    const cuda::DeviceFootprint need = cuda::group_footprint(cfg);
    const int fit = need.models_within(cuda::device_memory().first);
    REQUIRE(fit > 0);
    std::vector<ExperimentConfig> configs(size_t(fit) + 1, cfg);
    CHECK_THROWS_WITH(cuda::MultiModelTrainer(configs),
                      Catch::Contains("of device memory") && Catch::Contains("at most " + std::to_string(fit)));
}

TEST_CASE("cuBLAS calls with a bad argument fail naming the call", "[gpu][wide][blas]") {
    cuda::BlasHandle blas;
    cuda::DeviceBuffer<float> a(16, "a"), b(16, "b"), c(16, "c");
    // lda 2 is shorter than op(A)'s 4 rows: cuBLAS's CUBLAS_STATUS_INVALID_VALUE.
    CHECK_THROWS_WITH(cuda::gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, a.get(), 2, 16, b.get(), 4, 16, c.get(),
                                         4, 16, 1),
                      Catch::Contains("cublasSgemm") && Catch::Contains("invalid"));
    CHECK_THROWS_WITH(cuda::gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, a.get(), 4, 16, b.get(), 4, 16, c.get(),
                                         3, 16, 2),
                      Catch::Contains("cublasSgemmStridedBatched") && Catch::Contains("invalid"));
    // A valid one: C = A B for 2 x 2 column-major matrices.
    cuda::DeviceBuffer<float> a2(std::vector<float>{1, 2, 3, 4}, "a2"), b2(std::vector<float>{5, 6, 7, 8}, "b2"), c2(4, "c2");
    cuda::gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, a2.get(), 2, 4, b2.get(), 2, 4, c2.get(), 2, 4, 1);
    CHECK(c2.download() == std::vector<float>{23, 34, 31, 46});
}

TEST_CASE("cuBLAS path: a non-finite step stops the model where the CPU stops", "[gpu][wide][nonfinite]") {
    // lr 1e30 at step 40, interpolated from step 0: the parameters grow until
    // a step's loss or gradient overflows; the CPU stops before applying it.
    const WideData data(64);
    const auto bad = data.config(96, 1, 64, {"schedule.keyframes.1.lr=1e30"});
    const auto good = data.config(96, 1, 64, {"seed=5"});
    const int steps = 6;  // it stops at step 2
    auto cpu = make_cpu_backend(bad);
    std::vector<StepRecord> c;
    cpu->train(0, steps - 1, c);
    REQUIRE(c.size() < size_t(steps));  // the CPU stopped
    const int stop = c.back().step;
    cuda::MultiModelTrainer gpu({bad, good});  // one stops, the other trains on
    std::vector<std::vector<StepRecord>> g;
    gpu.train(0, steps - 1, &g);
    REQUIRE(g[0].size() == c.size());
    CHECK(g[0].back().step == stop);
    CHECK(g[0].back().bad_gradient == c.back().bad_gradient);
    std::printf("cuBLAS path: non-finite step %d on both, gradient term '%s'\n", stop, c.back().bad_gradient.c_str());
    CHECK(g[1].size() == size_t(steps));
    CHECK(gpu.state(0).next_step == stop);
    cuda::MultiModelTrainer up_to({bad});  // the same steps, stopping just before the bad one
    up_to.train(0, stop - 1);
    if (gpu_test::kEmulated) CHECK(up_to.params(0) == gpu.params(0));  // M = 1 vs 2: see the determinism case
    for (const auto& t : gpu_test::tensor_usage(bad, gpu.params(0), up_to.params(0), kWeightRel, kWeightAbs))
        CHECK(t.used <= 1.0);
}
