// The wide path: layers through the BLAS's GEMM (host/train/gemm_layers.hpp). Its
// gradient against finite differences in double at a shape where every layer
// takes the GEMM, its agreement with the hand-written loops on the same
// model, which layers take it by default, and the memory checks of wide runs.
#include <catch2/catch.hpp>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cmath>
#include <random>
#include <thread>
#include <type_traits>

#include "helpers.hpp"
#include "host/train/blas.hpp"
#include "host/train/cpu_net.hpp"
#include "host/config/memory_check.hpp"
#include "host/train/objective.hpp"

using namespace sca;

namespace {

// D = 64, H = 96, K = 5, two hidden layers per side, batch 32, every loss
// term; the RGB base config is only the source of the regularizers.
struct Wide {
    ExperimentConfig cfg = test::config_from(R"(
model: {latent: 5, hidden: 6, layers: 2}
data: {grid: 4, batch: 32}
labels:
  red: {function: redness, power: 2, scale: 0.5}
schedule: {keyframes: [{step: 0, lr: 0.01}]}
regularizers:
  - {name: sep, kind: separate, power: 8}
  - {name: anc, kind: anchor, direction: [1, 0.5, 0, 0, -1], labels: {red: 1}}
  - {name: anti, kind: anti-anchor, direction: [-1, 0, 0.2, 0, 0], hemi: false}
  - {name: sub, kind: anti-subspace, dims: [0, 3]}
  - {name: unit, kind: unitarity}
)");
    int B = 32;
    std::vector<double> params, x;
    std::vector<float> labels;
    std::vector<float> weights{0.3f, 2.0f, 0.5f, 0.25f, 0.1f};
    Wide() {
        cfg.model.input_dim = 64;
        cfg.model.hidden = 96;
        const auto p = init_parameters(cfg.model, 11);
        params.assign(p.begin(), p.end());
        std::mt19937 rng(5);
        std::normal_distribution<double> n(0, 1);
        for (int i = 0; i < cfg.model.input_dim * B; ++i) x.push_back(n(rng));
        for (int i = 0; i < B; ++i) labels.push_back(float(i % 3 == 0));
    }
    // Total loss and (if grad) its gradient, with layers at least `min_width` wide through the GEMM.
    template <class T>
    T total(const std::vector<T>& p, const std::vector<T>& xs, std::type_identity_t<std::vector<T>>* grad, int min_width) const {
        CpuNet<T> net(cfg.model, B, min_width);
        Objective<T> obj(cfg.model, cfg.regularizers, B);
        return obj.evaluate(net, p.data(), xs.data(), labels.data(), B, weights, grad ? grad->data() : nullptr).total;
    }
};

template <class T>
std::vector<T> as(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}

double scale_of(const std::vector<double>& v) {
    double s = 1e-30;
    for (double x : v) s = std::max(s, std::abs(x));
    return s;
}

}  // namespace

TEST_CASE("the GEMM path's gradient at D=64 H=96 B=32 matches finite differences", "[wide][gradient]") {
    const Wide w;
    for (const auto& L : linear_layers(w.cfg.model)) REQUIRE(takes_gemm(L, 0));
    std::vector<double> g(w.params.size());
    w.total(w.params, w.x, &g, 0);
    // 24 parameters of each weight and bias tensor (every one of short
    // biases), spread over the tensor: every layer's GEMMs and fused passes.
    std::vector<size_t> checked;
    for (const auto& L : linear_layers(w.cfg.model)) {
        const size_t nw = size_t(L.in) * L.out;
        for (size_t i = 0; i < 24; ++i) checked.push_back(L.weight + i * (nw / 24) + i % 7);
        for (int i = 0; i < std::min(L.out, 24); ++i) checked.push_back(L.bias + size_t(i) * L.out / std::min(L.out, 24));
    }
    const double scale = scale_of(g), h = 1e-6;
    double worst = 0;
    auto p = w.params;
    for (size_t i : checked) {
        const double orig = p[i];
        p[i] = orig + h;
        const double up = w.total(p, w.x, nullptr, 0);
        p[i] = orig - h;
        const double down = w.total(p, w.x, nullptr, 0);
        p[i] = orig;
        worst = std::max(worst, std::abs((up - down) / (2 * h) - g[i]));
    }
    INFO("worst |fd - analytic| " << worst << ", gradient scale " << scale << ", " << checked.size() << " parameters");
    CHECK(worst / scale < 1e-6);
    CHECK(scale > 1e-3);  // the check exercised a real gradient
}

TEST_CASE("the GEMM path and the hand-written loops agree on the same model", "[wide]") {
    const Wide w;
    SECTION("double: the same sums in another order") {
        std::vector<double> gemm(w.params.size()), loops(w.params.size());
        const double a = w.total(w.params, w.x, &gemm, 0), b = w.total(w.params, w.x, &loops, INT_MAX);
        CHECK(std::abs(a - b) < 1e-12 * std::abs(b));
        double worst = 0;
        for (size_t i = 0; i < gemm.size(); ++i) worst = std::max(worst, std::abs(gemm[i] - loops[i]));
        CHECK(worst < 1e-12 * scale_of(loops));
    }
    SECTION("float, as training runs: within 1e-4 of the gradient's scale") {
        const auto p = as<float>(w.params), x = as<float>(w.x);
        std::vector<float> gemm(p.size()), loops(p.size());
        const float a = w.total(p, x, &gemm, 0), b = w.total(p, x, &loops, INT_MAX);
        CHECK(std::abs(a - b) < 1e-5f * std::abs(b));
        const auto loops_d = as<double>(std::vector<double>(loops.begin(), loops.end()));
        double worst = 0;
        for (size_t i = 0; i < gemm.size(); ++i) worst = std::max(worst, std::abs(double(gemm[i]) - loops_d[i]));
        INFO("worst difference " << worst << ", scale " << scale_of(loops_d));
        CHECK(worst < 1e-4 * scale_of(loops_d));
    }
}

TEST_CASE("the GEMM path gives the same gradients when several threads train at once (sweeps)", "[wide]") {
    const Wide w;
    const auto p = as<float>(w.params), x = as<float>(w.x);
    std::vector<float> alone(p.size());
    w.total(p, x, &alone, 0);
    std::vector<std::vector<float>> together(4, std::vector<float>(p.size()));
    std::vector<std::thread> threads;
    for (auto& g : together)
        threads.emplace_back([&] {
            for (int repeat = 0; repeat < 5; ++repeat) w.total(p, x, &g, 0);
        });
    for (auto& t : threads) t.join();
    for (const auto& g : together) CHECK(g == alone);
}

namespace {

// B = 256 samples through a 768 -> 1024 layer: the forward GEMM and both
// backward ones (dW = dY^T X, dX = dY W), as host/train/gemm_layers.hpp calls them.
struct LayerGemms {
    static constexpr int B = 256, in = 768, out = 1024;
    std::vector<float> x = random(size_t(B) * in, 5), w = random(size_t(out) * in, 6), dy = random(size_t(B) * out, 7);

    static std::vector<float> random(size_t n, unsigned seed) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> u(-1, 1);
        std::vector<float> v(n);
        for (float& e : v) e = u(rng);
        return v;
    }
    std::vector<std::vector<float>> products(int threads) const {
        set_blas_threads(threads);
        std::vector<float> y(size_t(B) * out), dw(w.size()), dx(x.size());
        gemm(false, true, B, out, in, 1.0f, x.data(), in, w.data(), in, 0.0f, y.data(), out);
        gemm(true, false, out, in, B, 1.0f, dy.data(), out, x.data(), in, 0.0f, dw.data(), in);
        gemm(false, false, B, in, out, 1.0f, dy.data(), out, w.data(), in, 0.0f, dx.data(), in);
        return {y, dw, dx};
    }
};

size_t thread_count() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}

}  // namespace

TEST_CASE("OpenBLAS SGEMM repeats bit for bit at one thread count and differs only in rounding across counts", "[wide][blas]") {
    const LayerGemms gemms;
    auto products = [&](int threads) { return gemms.products(threads); };
    const int before = blas_threads();
    const auto one = products(1), one_again = products(1), two = products(2), two_again = products(2);
    set_blas_threads(before);
    const bool repeats = one == one_again && two == two_again;  // not CHECK(a == b): Catch would print 10^6 floats
    CHECK(repeats);
    for (size_t t = 0; t < one.size(); ++t) {
        size_t differ = 0;
        double worst = 0, scale = 0;  // the largest difference against the largest entry: rounding only
        for (size_t i = 0; i < one[t].size(); ++i) {
            const double a = one[t][i], b = two[t][i];
            scale = std::max(scale, std::abs(a));
            if (a != b) ++differ, worst = std::max(worst, std::abs(a - b));
        }
        worst /= scale;
        std::printf("GEMM %zu: %zu of %zu entries differ between 1 and 2 BLAS threads, largest by %.2g of the largest entry\n",
                    t, differ, one[t].size(), worst);
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("stopping OpenBLAS's idle threads keeps its thread count and its GEMMs bit for bit", "[wide][blas]") {
    const LayerGemms gemms;
    const int before = blas_threads();
    const auto two = gemms.products(2);  // OpenBLAS now has a worker thread
    const size_t threads_running = thread_count();
    stop_idle_blas_threads();
    CHECK(thread_count() < threads_running);
    CHECK(blas_threads() == 2);
    const bool same = gemms.products(2) == two;  // the first GEMM starts the workers again
    CHECK(same);
    set_blas_threads(before);
}

TEST_CASE("runs trained side by side get one BLAS thread each, unless OPENBLAS_NUM_THREADS is set", "[wide][blas]") {
    const int before = blas_threads();
    {
        const BlasThreadsForJobs alone(1);
        CHECK(blas_threads() == before);
    }
    {
        const BlasThreadsForJobs side_by_side(3);
        CHECK(blas_threads() == (std::getenv("OPENBLAS_NUM_THREADS") ? before : 1));
    }
    CHECK(blas_threads() == before);
}

TEST_CASE("the paper's models stay on the hand-written loops and wide.yaml's all take the GEMM", "[wide]") {
    for (const char* name : {"isolated.yaml", "anchored.yaml", "anchored-subspace.yaml"}) {
        const auto cfg = load_experiment(test::experiment_path(name));
        for (const auto& L : linear_layers(cfg.model)) CHECK_FALSE(takes_gemm(L, kGemmMinWidth));
    }
    ModelShape wide{768, 1024, 2, 16};
    for (const auto& L : linear_layers(wide)) CHECK(takes_gemm(L, kGemmMinWidth));
}

TEST_CASE("a run that needs more memory than the machine has is refused before it starts", "[wide][limits]") {
    const double gib = double(1u << 30);
    CHECK(memory_shortfall(2 * gib, 4 * gib, 1024).empty());
    CHECK(memory_shortfall(2 * gib, -1, 1024).empty());  // unknown: not refused
    const std::string m = memory_shortfall(6 * gib, 4 * gib, 65536);
    CHECK_THAT(m, Catch::Contains("needs about 6.0 GiB") && Catch::Contains("65536 rows") &&
                      Catch::Contains("4.0 GiB available") && Catch::Contains("reduce data.batch"));
    // The estimate counts parameters four times (values, gradient, two moments).
    const ModelShape s{768, 4096, 2, 16};
    CHECK(working_bytes(s, 1) > 4.0 * 4 * double(parameter_count(s)));
}
