// The device-path bugs issue 13's review found, each with the case that
// failed before its fix (shown by the emulated build; the same cases run on
// a GPU): kernel images for the device, the per-kernel shared-memory limit,
// the stop at a non-finite step, the separation's self pair, GELU's tail.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda/multi_model.hpp"
#include "cuda/separation_tiled.hpp"
#include "emulation.hpp"
#include "host/train/backend.hpp"
#include "host/config/dataset.hpp"
#include "host/config/model_shape.hpp"
#include "host/train/objective.hpp"
#include "host/train/separation_cpu.hpp"
#if defined(SCA_CUDA_EMU)
#include "cuda/emu/device_model.hpp"
#endif

using namespace sca;

namespace {

std::string experiment(const std::string& name) { return std::string(SCA_SOURCE_DIR) + "/experiments/" + name; }

// The term run.cpp names for a stopped step: a non-finite gradient's term,
// else the first non-finite of recon, each weighted regularizer, total.
std::string first_bad_term(const ExperimentConfig& cfg, const StepRecord& r) {
    if (!r.bad_gradient.empty()) return "gradient of " + r.bad_gradient;
    if (!std::isfinite(r.recon)) return "recon";
    for (size_t i = 0; i < r.reg.size(); ++i)
        if (r.weights[i] != 0.0f && !std::isfinite(r.reg[i])) return cfg.regularizers[i].name;
    return std::isfinite(r.total) ? "" : "total";
}

bool all_finite(const std::vector<float>& v) {
    for (float x : v)
        if (!std::isfinite(x)) return false;
    return true;
}

// The GPU's loss terms and gradient on step `step`'s batch against the CPU
// objective on the same batch; returns the worst fraction of the tolerances
// (loss terms 2e-5 relative, gradient tensors 2e-4 of their largest entry).
double worst_against_cpu(const ExperimentConfig& cfg, const TrainState& state, int step) {
    cuda::MultiModelTrainer gpu({cfg});
    gpu.load_state(0, state);
    const std::vector<float> weights(cfg.regularizers.size(), 1.0f);
    const auto dev = gpu.evaluate(0, step, nullptr, nullptr, weights, true);
    CpuNet<float> net(cfg.model, cfg.batch);
    Objective<float> objective(cfg.model, cfg.regularizers, cfg.batch);
    std::vector<float> grad(state.params.size());
    const auto ref = objective.evaluate(net, state.params.data(), dev.x.data(), dev.labels.data(), cfg.batch, weights,
                                        grad.data(), true);
    double worst = std::fabs(dev.recon - ref.recon) / (2e-5 * std::fabs(ref.recon) + 1e-7);
    for (size_t r = 0; r < cfg.regularizers.size(); ++r) {
        const double u = std::fabs(dev.reg[r] - ref.reg[r]) / (2e-5 * std::fabs(ref.reg[r]) + 1e-7);
        INFO(cfg.regularizers[r].name << ": gpu " << dev.reg[r] << " cpu " << ref.reg[r]);
        CHECK(u <= 1.0);
        worst = std::max(worst, u);
    }
    for (const auto& L : linear_layers(cfg.model))
        for (const auto& [name, off, n] : {std::tuple{L.weight_name, L.weight, size_t(L.in) * L.out},
                                           std::tuple{L.bias_name, L.bias, size_t(L.out)}}) {
            double scale = 0, tensor = 0;
            for (size_t i = 0; i < n; ++i) scale = std::max(scale, double(std::fabs(grad[off + i])));
            for (size_t i = 0; i < n; ++i)
                tensor = std::max(tensor, std::fabs(dev.grad[off + i] - grad[off + i]) / (2e-4 * scale + 1e-30));
            INFO("gradient " << name << ": " << 100 * tensor << "% of tolerance");
            CHECK(tensor <= 1.0);
            worst = std::max(worst, tensor);
        }
    return worst;
}

}  // namespace

#if defined(SCA_CUDA_EMU)
TEST_CASE("a GPU the build has no kernel image for falls back to the CPU with a one-line reason", "[gpu][arch]") {
    // The default architectures (SCA_CUDA_ARCH): SASS for 8.0, 8.6, 8.9, 9.0, PTX for newer.
    struct Restore {
        ~Restore() { emu::set_compute_capability(9, 0); }
    } restore;
    const auto cfg = load_experiment(experiment("isolated.yaml"));
    for (const auto& [major, minor] : {std::pair{8, 0}, {8, 6}, {8, 9}, {9, 0}, {10, 0}, {12, 0}}) {
        emu::set_compute_capability(major, minor);
        INFO("sm_" << major << minor);
        CHECK(cuda::device_unavailable_reason().empty());
        cuda::MultiModelTrainer gpu({cfg});
        CHECK(std::isfinite(gpu.evaluate(0, 0, nullptr, nullptr, {1, 1, 1, 1}, true).total));  // the kernel runs
    }
    emu::set_compute_capability(7, 5);  // a T4: compute capability >= 7.0, but no image
    const std::string why = cuda::device_unavailable_reason();
    INFO(why);
    CHECK_THAT(why, Catch::Contains("sm_75") && Catch::Contains("cannot run this build's kernels") &&
                        Catch::Contains("SCA_CUDA_ARCH=75"));
    CHECK(why.find('\n') == std::string::npos);
}
#endif

TEST_CASE("a second trainer of a smaller shape leaves the first one's launches working", "[gpu][smem]") {
    // The shared-memory limit is per kernel: set per launch, not by the last trainer built.
    const auto big = load_experiment(experiment("isolated.yaml"), {"data.batch=96"});
    const auto small = load_experiment(experiment("isolated.yaml"), {"data.batch=8"});
    REQUIRE(size_t(cuda::fused_model_for(big).smem_floats) * 4 > 48 * 1024);  // needs the raised limit
    cuda::MultiModelTrainer a({big});
    a.train(0, 1);
    cuda::MultiModelTrainer b({small});
    b.train(0, 1);
    a.train(2, 3);
    std::vector<std::vector<StepRecord>> logs;
    a.train(4, 4, &logs);
    CHECK(std::isfinite(logs[0][0].total));
    CHECK(std::isfinite(a.evaluate(0, 5, nullptr, nullptr, {1, 1, 1, 1}, true).total));
}

TEST_CASE("a non-finite step stops the model where the CPU stops, keeping the last good state", "[gpu][nonfinite]") {
    // lr 1e30 from step 1 on: the parameters reach ~1e29 and a later step's
    // loss or gradient overflows. The CPU stops before applying that step.
    const auto bad = load_experiment(experiment("isolated.yaml"), {"schedule.keyframes.1.lr=1e30"});
    const auto good = load_experiment(experiment("isolated.yaml"), {"seed=5"});
    auto cpu = make_cpu_backend(bad);
    std::vector<StepRecord> c;
    cpu->train(0, 9, c);
    REQUIRE(c.size() >= 2);
    REQUIRE(c.size() < 10);  // the CPU stopped
    const int stop = c.back().step;

    cuda::MultiModelTrainer gpu({bad, good});  // two models: one stops, the other trains on
    std::vector<std::vector<StepRecord>> g;
    gpu.train(0, 9, &g);
    REQUIRE(g[0].size() == c.size());
    const StepRecord &cb = c.back(), &gb = g[0].back();
    CHECK(gb.step == stop);
    CHECK(first_bad_term(bad, gb) == first_bad_term(bad, cb));
    CHECK_FALSE(first_bad_term(bad, cb).empty());
    std::printf("non-finite step %d: the CPU names '%s', the GPU '%s'\n", stop, first_bad_term(bad, cb).c_str(),
                first_bad_term(bad, gb).c_str());
    for (size_t i = 0; i + 1 < g[0].size(); ++i) CHECK(std::isfinite(g[0][i].total));

    const TrainState kept = gpu.state(0);
    CHECK(kept.next_step == stop);
    CHECK(kept.next_step == cpu->state().next_step);
    CHECK(all_finite(kept.params));
    CHECK(all_finite(kept.exp_avg));
    CHECK(all_finite(kept.exp_avg_sq));
    cuda::MultiModelTrainer up_to({bad});  // the same steps, stopping just before the bad one
    up_to.train(0, stop - 1);
    CHECK(up_to.params(0) == gpu.params(0));

    gpu.train(10, 11, &g);  // a stopped model stays stopped; the other trains on
    CHECK(g[0].size() == c.size());
    CHECK(g[1].size() == 12);
    CHECK(gpu.state(0).next_step == stop);
    cuda::MultiModelTrainer alone({good});
    alone.train(0, 11);
    CHECK(alone.params(0) == gpu.params(1));
}

TEST_CASE("the separation term has no self pair, on the GPU as on the CPU", "[gpu][separation]") {
    // A zero latent has u = 0 and c_ii = 0, which the mask for identical
    // directions does not catch: a self pair would add c'^p to its own row
    // (p = 2: 0.25 next to 63 x 0.25 from the other samples).
    const auto cfg = load_experiment(experiment("isolated.yaml"), {"regularizers.0.power=2"});
    TrainState state = initial_state(cfg);
    const auto layers = linear_layers(cfg.model);
    const LinearLayer& last_encoder = layers[size_t(encoder_layer_count(cfg.model)) - 1];
    std::fill_n(state.params.begin() + long(last_encoder.weight), size_t(last_encoder.in) * last_encoder.out, 0.0f);
    std::fill_n(state.params.begin() + long(last_encoder.bias), size_t(last_encoder.out), 0.0f);  // h = 0 for every sample
    const double worst = worst_against_cpu(cfg, state, 0);
    std::printf("zero latents, fused kernel vs CPU: %.1f%% of tolerance\n", 100 * worst);

    // The tiled kernel, a zero row among unit rows, p = 2 (a self pair adds 0.25).
    const int B = 64, K = 3;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    std::vector<float> z(size_t(B) * K), omega(size_t(B), 1.0f / B);
    for (int i = 0; i < B; ++i) {
        float n = 0;
        for (int k = 0; k < K; ++k) n += (z[i * K + k] = normal(rng)) * z[i * K + k];
        for (int k = 0; k < K; ++k) z[i * K + k] = i == 5 ? 0.0f : z[i * K + k] / std::sqrt(n);
    }
    cuda::SeparationProblem p{B, K, 2, true, 1.0f};
    cuda::DeviceSeparation sep(p, z, omega);
    sep.run();
    RegParams rp;
    rp.power = 2;
    std::vector<double> zd(z.begin(), z.end()), wd(omega.begin(), omega.end()), dz(zd.size(), 0.0);
    SeparationCpu<double> reference(B, K);
    const double L = reference.loss_and_grad(rp, zd.data(), wd.data(), B, 1.0, dz.data());
    INFO("tiled " << sep.loss() << ", CPU " << L);
    CHECK(std::fabs(sep.loss() - L) <= 1e-5 * std::fabs(L));
}

TEST_CASE("GELU far in the negative tail matches the CPU's erfc form", "[gpu][gelu]") {
    // Every first-layer pre-activation at -6: 1 + erf(-6 / sqrt 2) cancels to
    // 0 in float, so GELU'(-6) came out 3% off and the first layer's gradient with it.
    const auto cfg = load_experiment(experiment("isolated.yaml"));
    TrainState state = initial_state(cfg);
    const LinearLayer first = linear_layers(cfg.model)[0];
    std::fill_n(state.params.begin() + long(first.weight), size_t(first.in) * first.out, 0.0f);
    std::fill_n(state.params.begin() + long(first.bias), size_t(first.out), -6.0f);
    const double worst = worst_against_cpu(cfg, state, 0);
    std::printf("GELU at -6, fused kernel vs CPU: %.1f%% of tolerance\n", 100 * worst);
}
