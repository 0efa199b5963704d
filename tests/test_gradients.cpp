// Finite-difference checks of every loss term's analytic backward, through
// the whole model, with and without labels. Central differences in double
// against the double instantiation of the same code (tight), and against the
// float instantiation used for training (loose, float rounding).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <type_traits>

#include "helpers.hpp"
#include "host/train/cpu_net.hpp"
#include "host/config/dataset.hpp"
#include "host/io/npy.hpp"
#include "host/train/objective.hpp"

using namespace sca;

namespace {

// Labels and schedule of every fixture; one regularizer appended per case.
const std::string kLabelsAndSchedule = R"(
labels:
  red: {function: redness, power: 2, scale: 0.5}
  vib: {function: vibrancy, power: 1, scale: 0.5}
schedule: {keyframes: [{step: 0, lr: 0.01}]}
regularizers:
)";
const std::string kBase = "model: {latent: 5, hidden: 6, layers: 2}\ndata: {grid: 4, batch: 9}" + kLabelsAndSchedule;

struct Case {
    const char* name;
    const char* regularizer;
};

const Case kCases[] = {
    {"separate shifted", "  - {name: r, kind: separate, power: 100, shift: true}"},
    {"separate unshifted, power 3", "  - {name: r, kind: separate, power: 3, shift: false}"},
    {"separate with labels", "  - {name: r, kind: separate, power: 8, labels: {red: 1}}"},
    {"anchor angular", "  - {name: r, kind: anchor, direction: [1, 0.5, 0, 0, -1]}"},
    {"anchor angular with labels", "  - {name: r, kind: anchor, direction: [1, 0, 0, 0, 0], labels: {red: 0.7, vib: 0.6}}"},
    {"anchor euclidean", "  - {name: r, kind: anchor, metric: euclidean, point: [0.5, 0.5, 0, 0, 0]}"},
    {"anti-anchor hemi", "  - {name: r, kind: anti-anchor, direction: [-1, 0, 0.2, 0, 0], hemi: true}"},
    {"anti-anchor full", "  - {name: r, kind: anti-anchor, direction: [-1, 0, 0.2, 0, 0], hemi: false}"},
    {"subspace", "  - {name: r, kind: subspace, dims: [0, 1]}"},
    {"subspace with labels", "  - {name: r, kind: subspace, dims: [0, 1], labels: {vib: 1}}"},
    {"anti-subspace", "  - {name: r, kind: anti-subspace, dims: [0, 3]}"},
    {"unitarity", "  - {name: r, kind: unitarity}"},
};

struct Fixture {
    ExperimentConfig cfg;
    std::vector<double> params;
    std::vector<double> x;
    std::vector<float> labels;
    int B = 0;
};

Fixture make_fixture(const std::string& regularizer, unsigned seed, const std::string& base = kBase) {
    Fixture f{test::config_from(base + regularizer + "\n"), {}, {}, {}, 0};
    const auto p = init_parameters(f.cfg.model, seed);
    f.params.assign(p.begin(), p.end());
    f.B = f.cfg.batch;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 3 * f.B; ++i) f.x.push_back(u(rng));
    // Mixed labels: some samples carry one, some both, some none.
    for (int l = 0; l < 2; ++l)
        for (int i = 0; i < f.B; ++i) f.labels.push_back(float((i + l) % 3 == 0));
    return f;
}

// L_r alone (weight 1 for the term, gradient of recon subtracted).
template <class T>
std::pair<T, std::vector<T>> term_and_grad(const Fixture& f, const std::vector<T>& params) {
    CpuNet<T> net(f.cfg.model, f.B);
    Objective<T> obj(f.cfg.model, f.cfg.regularizers, f.B);
    std::vector<T> x(f.x.begin(), f.x.end());
    std::vector<T> g1(params.size()), g0(params.size());
    const auto with = obj.evaluate(net, params.data(), x.data(), f.labels.data(), f.B, {1.0f}, g1.data());
    obj.evaluate(net, params.data(), x.data(), f.labels.data(), f.B, {0.0f}, g0.data());
    for (size_t i = 0; i < g1.size(); ++i) g1[i] -= g0[i];
    return {with.reg[0], g1};
}

double term_value(const Fixture& f, const std::vector<double>& params) {
    return term_and_grad<double>(f, params).first;
}

double recon_value(const Fixture& f, const std::vector<double>& params) {
    CpuNet<double> net(f.cfg.model, f.B);
    Objective<double> obj(f.cfg.model, f.cfg.regularizers, f.B);
    return obj.evaluate(net, params.data(), f.x.data(), f.labels.data(), f.B, {0.0f}, nullptr).recon;
}

template <class Fn>
std::vector<double> finite_differences(const std::vector<double>& params, Fn value, double h = 1e-6) {
    std::vector<double> fd(params.size());
    auto p = params;
    for (size_t i = 0; i < p.size(); ++i) {
        const double orig = p[i];
        p[i] = orig + h;
        const double up = value(p);
        p[i] = orig - h;
        const double down = value(p);
        p[i] = orig;
        fd[i] = (up - down) / (2 * h);
    }
    return fd;
}

// max |a - b| / (max |b| + tiny): the error relative to the gradient's scale.
template <class T>
double relative_error(const std::vector<T>& a, const std::vector<double>& b) {
    double worst = 0, scale = 1e-12;
    for (double v : b) scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
    return worst / scale;
}

}  // namespace

TEST_CASE("every regularizer's analytic gradient matches finite differences", "[gradient]") {
    for (const auto& c : kCases) {
        double exercised = 0;  // the largest gradient seen: the check must not be vacuous
        for (unsigned seed : {1u, 2u}) {
            INFO(c.name << ", seed " << seed);
            const Fixture f = make_fixture(c.regularizer, seed);
            const auto [value, analytic] = term_and_grad<double>(f, f.params);
            const auto fd = finite_differences(f.params, [&](const std::vector<double>& p) { return term_value(f, p); });
            double scale = 0;
            for (double v : fd) scale = std::max(scale, std::abs(v));
            INFO("term value " << value << ", largest gradient entry " << scale);
            exercised = std::max(exercised, scale);
            CHECK(relative_error(analytic, fd) < 1e-6);

            // The float backward used for training, against the same double oracle.
            std::vector<float> pf(f.params.begin(), f.params.end());
            const auto float_grad = term_and_grad<float>(f, pf).second;
            CHECK(relative_error(float_grad, fd) < 2e-3);
        }
        INFO(c.name);
        CHECK(exercised > 1e-4);
    }
}

// A latent twice as wide as one 32-bit word of subspace dims (dims and
// directions beyond the first 32), narrow elsewhere so the check stays cheap.
const std::string kWideLatentBase = "model: {latent: 64, hidden: 3, layers: 1}\ndata: {grid: 4, batch: 5}" + kLabelsAndSchedule;

// A 64-entry YAML list with a few non-zero entries on both sides of 32.
std::string wide_vector() {
    std::string v = "[";
    for (int k = 0; k < 64; ++k) v += std::string(k ? ", " : "") + (k == 1 ? "0.5" : k == 40 ? "1" : k == 63 ? "-0.7" : "0");
    return v + "]";
}

TEST_CASE("at K = 64 every regularizer's analytic gradient matches finite differences", "[gradient][latent]") {
    const std::string v = wide_vector();
    const std::string cases[] = {
        "  - {name: r, kind: separate, power: 8, shift: true}",
        "  - {name: r, kind: anchor, direction: " + v + ", labels: {red: 1}}",
        "  - {name: r, kind: anchor, metric: euclidean, point: " + v + "}",
        "  - {name: r, kind: anti-anchor, direction: " + v + ", hemi: false}",
        "  - {name: r, kind: anti-anchor, axis: 50, sign: -1, hemi: false}",
        "  - {name: r, kind: subspace, dims: [1, 33, 40, 63]}",
        "  - {name: r, kind: anti-subspace, dims: [0, 35]}",
        "  - {name: r, kind: unitarity}",
    };
    for (const std::string& c : cases) {
        INFO(c);
        const Fixture f = make_fixture(c, 11, kWideLatentBase);
        REQUIRE(f.cfg.model.latent == 64);
        const auto [value, analytic] = term_and_grad<double>(f, f.params);
        const auto fd = finite_differences(f.params, [&](const std::vector<double>& p) { return term_value(f, p); });
        double scale = 0;
        for (double g : fd) scale = std::max(scale, std::abs(g));
        INFO("term value " << value << ", largest gradient entry " << scale);
        CHECK(scale > 1e-4);  // not vacuous
        CHECK(relative_error(analytic, fd) < 1e-6);
        std::vector<float> pf(f.params.begin(), f.params.end());
        CHECK(relative_error(term_and_grad<float>(f, pf).second, fd) < 2e-3);
    }
}

TEST_CASE("the reconstruction gradient through the whole model matches finite differences", "[gradient]") {
    for (int layers : {1, 2, 3}) {
        Fixture f = make_fixture("  - {name: r, kind: unitarity}", 7);
        f.cfg.model.layers = layers;
        f.params.clear();
        for (float v : init_parameters(f.cfg.model, 7)) f.params.push_back(v);
        CpuNet<double> net(f.cfg.model, f.B);
        Objective<double> obj(f.cfg.model, f.cfg.regularizers, f.B);
        std::vector<double> g(f.params.size());
        obj.evaluate(net, f.params.data(), f.x.data(), f.labels.data(), f.B, {0.0f}, g.data());
        const auto fd = finite_differences(f.params, [&](const std::vector<double>& p) { return recon_value(f, p); });
        INFO("layers " << layers);
        CHECK(relative_error(g, fd) < 1e-6);
    }
}

TEST_CASE("the total loss gradient with every term weighted matches finite differences", "[gradient]") {
    const std::string regs = R"(  - {name: sep, kind: separate, power: 100}
  - {name: anc, kind: anchor, direction: [1, 0, 0, 0, 0], labels: {red: 1}}
  - {name: anti, kind: anti-anchor, direction: [-1, 0, 0, 0, 0]}
  - {name: sub, kind: anti-subspace, dims: [0]})";
    const Fixture f = make_fixture(regs, 3);
    const std::vector<float> w{0.3f, 2.0f, 0.5f, 0.25f};
    auto total = [&](const std::vector<double>& p, std::vector<double>* grad) {
        CpuNet<double> net(f.cfg.model, f.B);
        Objective<double> obj(f.cfg.model, f.cfg.regularizers, f.B);
        return obj.evaluate(net, p.data(), f.x.data(), f.labels.data(), f.B, w, grad ? grad->data() : nullptr).total;
    };
    std::vector<double> g(f.params.size());
    total(f.params, &g);
    const auto fd = finite_differences(f.params, [&](const std::vector<double>& p) { return total(p, nullptr); });
    CHECK(relative_error(g, fd) < 1e-6);
}

TEST_CASE("a labelled term with no labelled sample in the batch contributes nothing", "[gradient]") {
    Fixture f = make_fixture("  - {name: r, kind: anchor, direction: [1, 0, 0, 0, 0], labels: {red: 1}}", 4);
    std::fill(f.labels.begin(), f.labels.end(), 0.0f);
    const auto [value, grad] = term_and_grad<double>(f, f.params);
    CHECK(value == 0.0);
    for (double v : grad) CHECK(v == 0.0);
}

TEST_CASE("label affinities are clamped to [0, 1] and normalise the reduction", "[loss]") {
    // Subspace on two samples: sample 0 labelled by both labels (affinity
    // 0.7 + 0.6 clamps to 1), sample 1 by one (0.6). L = sum a l / (sum a + eps).
    Fixture f = make_fixture("  - {name: r, kind: anti-subspace, dims: [0], labels: {red: 0.7, vib: 0.6}}", 5);
    f.B = 2;
    f.x.resize(6);
    f.x = {0.9, 0.2, 0.1, 0.3, 0.5, 0.7};
    f.labels = {1, 0, 1, 1};  // red: [1, 0], vib: [1, 1]
    CpuNet<double> net(f.cfg.model, 2);
    net.forward(f.params.data(), f.x.data(), 2);
    const double l0 = net.latent()[0] * net.latent()[0], l1 = net.latent()[1] * net.latent()[1];
    const double expected = (1.0 * l0 + 0.6 * l1) / (1.6 + 1e-8);
    CHECK(term_value(f, f.params) == Approx(expected).epsilon(1e-6));
}

TEST_CASE("data from files: gradients with D != 3 and several concepts match finite differences", "[gradient][data]") {
    // 7 input columns and three file labels, each concept anchored on its own
    // axis with its anti-anchor, plus a shared anti-subspace: the multi-concept setup.
    const auto dir = test::fresh_dir("grad-data");
    std::filesystem::create_directories(dir);
    const int N = 11, D = 7;
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> inputs(size_t(N) * D);
    for (float& v : inputs) v = u(rng);
    save_npy((dir / "x.npy").string(), {N, D}, inputs);
    for (int c = 0; c < 3; ++c) {
        std::vector<float> p(N);
        for (int i = 0; i < N; ++i) p[size_t(i)] = float((i + c) % 3 == 0);
        save_npy((dir / ("l" + std::to_string(c) + ".npy")).string(), {N}, p);
    }
    const std::string d = dir.string();
    const std::string yaml = "model: {latent: 5, hidden: 6, layers: 2}\ndata: {inputs: '" + d + "/x.npy', batch: 11}\n"
                             "labels:\n  a: {file: '" + d + "/l0.npy'}\n  b: {file: '" + d + "/l1.npy'}\n  c: {file: '" + d +
                             "/l2.npy'}\n"
                             "schedule: {keyframes: [{step: 0, lr: 0.01}]}\nregularizers:\n"
                             "  - {name: anchor-a, kind: anchor, axis: 0, labels: {a: 1}}\n"
                             "  - {name: anchor-b, kind: anchor, axis: 1, labels: {b: 1}}\n"
                             "  - {name: anchor-c, kind: anchor, metric: euclidean, axis: 2, labels: {c: 0.5, a: 0.7}}\n"
                             "  - {name: anti-a, kind: anti-anchor, axis: 0, sign: -1}\n"
                             "  - {name: anti-b, kind: anti-anchor, axis: 1, sign: -1, hemi: false}\n"
                             "  - {name: sub, kind: anti-subspace, dims: [0, 1, 2]}\n"
                             "  - {name: sep, kind: separate, power: 8}\n";
    Fixture f{test::config_from(yaml), {}, {}, {}, N};
    REQUIRE(f.cfg.model.input_dim == D);
    const auto p = init_parameters(f.cfg.model, 3);
    f.params.assign(p.begin(), p.end());
    for (int dd = 0; dd < D; ++dd)
        for (int i = 0; i < N; ++i) f.x.push_back(inputs[size_t(i) * D + dd]);  // feature-major [D][B]
    f.labels = file_label_probabilities(f.cfg.labels);
    const std::vector<float> w{1.0f, 0.7f, 0.5f, 0.3f, 0.4f, 0.2f, 0.1f};
    auto total = [&](const auto& params, auto* grad) {
        using T = typename std::decay_t<decltype(params)>::value_type;
        CpuNet<T> net(f.cfg.model, f.B);
        Objective<T> obj(f.cfg.model, f.cfg.regularizers, f.B);
        const std::vector<T> x(f.x.begin(), f.x.end());
        return double(obj.evaluate(net, params.data(), x.data(), f.labels.data(), f.B, w, grad ? grad->data() : nullptr).total);
    };
    std::vector<double> g(f.params.size());
    total(f.params, &g);
    const auto fd = finite_differences(f.params, [&](const std::vector<double>& q) { return total(q, (std::vector<double>*)nullptr); });
    double scale = 0;
    for (double v : fd) scale = std::max(scale, std::abs(v));
    CHECK(scale > 1e-3);
    CHECK(relative_error(g, fd) < 1e-6);
    std::vector<float> pf(f.params.begin(), f.params.end()), gf(pf.size());
    total(pf, &gf);
    CHECK(relative_error(gf, fd) < 2e-3);
    std::filesystem::remove_all(dir);
}

TEST_CASE("subspace dims past the first 32 select the right latent dims", "[loss][latent]") {
    const Fixture f = make_fixture("  - {name: r, kind: subspace, dims: [1, 33, 63]}", 1, kWideLatentBase);
    const RegParams& p = f.cfg.regularizers[0].params;
    for (int k = 0; k < 64; ++k) CHECK(p.has_dim(k) == (k == 1 || k == 33 || k == 63));
    // z = (e_32 + e_33) / sqrt 2: the subspace term counts only dim 32 (outside S).
    std::vector<double> z(64, 0.0), dz(64, 0.0), dh(64, 0.0);
    z[32] = z[33] = std::sqrt(0.5);
    CHECK(sample_term(p, z.data(), z.data(), 64, 1.0, dz.data(), dh.data()) == Approx(0.5));
    CHECK(dz[32] == Approx(2 * z[32]));
    CHECK(dz[33] == 0.0);
}
