// Evaluation (docs/method.md §8): colours, similarity, score, the fixture checkpoints'
// tables against an independent double-precision forward pass, the config
// section, the output files and selection across seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/config/dataset.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/io/npy.hpp"
#include "host/eval/selection.hpp"

using namespace sca;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) { return std::string(SCA_SOURCE_DIR) + "/tests/fixtures/" + name; }

fs::path fresh_dir(const std::string& name) {
    const fs::path d = sca::test::fresh_dir(name);
    fs::create_directories(d);
    return d;
}

// The autoencoder of docs/method.md §1 in double precision, written out plainly: the
// oracle for the float evaluation. `zeroed` latent dims are ablated (their
// pre-norm value is 0); `s` suppresses z before the decoder.
std::vector<double> reference_output(const Model& m, const std::array<float, 3>& rgb, const std::vector<int>& zeroed,
                                     const Suppression* s) {
    const auto layers = linear_layers(m.shape);
    const int enc = m.shape.layers + 1;
    std::vector<double> x(rgb.begin(), rgb.end());
    for (size_t l = 0; l < layers.size(); ++l) {
        const LinearLayer& L = layers[l];
        std::vector<double> y(size_t(L.out));
        for (int o = 0; o < L.out; ++o) {
            double acc = m.params[L.bias + o];
            for (int i = 0; i < L.in; ++i) acc += double(m.params[L.weight + size_t(o) * L.in + i]) * x[size_t(i)];
            y[size_t(o)] = L.gelu_after ? 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0))) : acc;
        }
        x = y;
        if (int(l) == enc - 1) {
            for (int k : zeroed) x[size_t(k)] = 0;
            double n = 0;
            for (double v : x) n += v * v;
            n = std::max(std::sqrt(n), 1e-12);
            for (double& v : x) v /= n;
            if (s) {
                double len = 0, dot = 0;
                for (float a : s->direction) len += double(a) * a;
                len = std::sqrt(len);
                for (size_t k = 0; k < x.size(); ++k) dot += x[k] * s->direction[k] / len;
                const double d = std::clamp(dot, 0.0, 1.0);
                double g = 0;
                if (s->falloff >= 1 - 1e-8) g = d;
                else if (d > s->falloff) g = s->strength * std::pow((d - s->falloff) / (1 - s->falloff), double(s->power));
                for (size_t k = 0; k < x.size(); ++k) x[k] -= g * dot * s->direction[k] / len;
            }
        }
    }
    for (double& v : x) v = std::clamp(v, 0.0, 1.0);
    return x;
}

double reference_error(const Model& m, const std::array<float, 3>& rgb, const std::vector<int>& zeroed, const Suppression* s) {
    const auto y = reference_output(m, rgb, zeroed, s);
    double e = 0;
    for (int c = 0; c < 3; ++c) e += (y[size_t(c)] - rgb[size_t(c)]) * (y[size_t(c)] - rgb[size_t(c)]);
    return e / 3;
}

double pearson_squared(const std::vector<double>& x, const std::vector<double>& y) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
    mx /= double(x.size());
    my /= double(x.size());
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy * sxy / (sxx * syy);
}

// Tables compare token by token: words exactly, numbers to 1.5e-4 (the
// printed precision), so a last-bit change in the trainer's float order
// does not flip a test while any real change does.
void check_same_table(const std::string& got, const std::string& want) {
    std::istringstream a(got), b(want);
    std::string x, y;
    int tokens = 0;
    while (true) {
        const bool more_a = bool(a >> x), more_b = bool(b >> y);
        REQUIRE(more_a == more_b);
        if (!more_a) break;
        ++tokens;
        char* end_x = nullptr;
        char* end_y = nullptr;
        const double vx = std::strtod(x.c_str(), &end_x), vy = std::strtod(y.c_str(), &end_y);
        if (*end_x == '\0' && *end_y == '\0' && !x.empty() && x != "-") {
            INFO(x << " vs " << y);
            CHECK(std::abs(vx - vy) <= 1.5e-4);
        } else {
            CHECK(x == y);
        }
    }
    CHECK(tokens > 90);
}

const std::string kMinimalConfig = R"(model: {latent: 4}
schedule:
  keyframes:
    - {step: 0, lr: 0.01}
    - {step: 10, lr: 0.01}
)";

ExperimentConfig config_file(const std::string& name, const std::string& evaluation_yaml) {
    const fs::path dir = fresh_dir("sca_test_eval_config");
    const std::string path = (dir / name).string();
    std::ofstream(path) << kMinimalConfig << evaluation_yaml;
    return load_experiment(path);
}

}  // namespace

TEST_CASE("the 17 named colours are docs/method.md §8's hues and grays, in order", "[evaluation]") {
    const auto& c = named_colours();
    REQUIRE(c.size() == 17);
    const std::vector<std::pair<std::string, std::array<float, 3>>> want = {
        {"red", {1, 0, 0}},       {"orange", {1, 0.5f, 0}},   {"yellow", {1, 1, 0}},  {"lime", {0.5f, 1, 0}},
        {"green", {0, 1, 0}},     {"teal", {0, 1, 0.5f}},     {"cyan", {0, 1, 1}},    {"azure", {0, 0.5f, 1}},
        {"blue", {0, 0, 1}},      {"purple", {0.5f, 0, 1}},   {"magenta", {1, 0, 1}}, {"pink", {1, 0, 0.5f}},
        {"black", {0, 0, 0}},     {"dark gray", {0.25f, 0.25f, 0.25f}}, {"gray", {0.5f, 0.5f, 0.5f}},
        {"light gray", {0.75f, 0.75f, 0.75f}}, {"white", {1, 1, 1}}};
    for (size_t i = 0; i < want.size(); ++i) {
        INFO(want[i].first);
        CHECK(c[i].name == want[i].first);
        for (int k = 0; k < 3; ++k) CHECK(c[i].rgb[size_t(k)] == Approx(want[i].second[size_t(k)]).margin(1e-6));
    }
    // hsv_to_rgb inverts rgb_to_hsv away from the hue seam.
    for (float h : {0.05f, 0.3f, 0.55f, 0.9f}) {
        const auto rgb = hsv_to_rgb(h, 0.6f, 0.8f);
        const Hsv back = rgb_to_hsv(rgb[0], rgb[1], rgb[2]);
        CHECK(back.h == Approx(h).margin(1e-6));
        CHECK(back.s == Approx(0.6f).margin(1e-6));
        CHECK(back.v == Approx(0.8f).margin(1e-6));
    }
}

TEST_CASE("similarity to red, computed by hand", "[evaluation]") {
    const std::array<float, 3> red{1, 0, 0};
    CHECK(similarity_to_anchor({1, 0, 0}, red) == Approx(1.0));
    // orange: 30 degrees away, hue_sim 2/3, rho 1.
    CHECK(similarity_to_anchor({1, 0.5f, 0}, red) == Approx(2.0 / 3.0));
    CHECK(similarity_to_anchor({1, 0, 0.5f}, red) == Approx(2.0 / 3.0));  // pink, the other side
    CHECK(similarity_to_anchor({0, 1, 1}, red) == Approx(0.0).margin(1e-7));  // cyan: 180 degrees
    // white and mid gray: hue 0 but s = 0, so (1 - |s - s_a|) = 0.
    CHECK(similarity_to_anchor({1, 1, 1}, red) == Approx(0.0).margin(1e-7));
    CHECK(similarity_to_anchor({0.5f, 0.5f, 0.5f}, red) == Approx(0.0).margin(1e-7));
    // dark red: s = 1, v = 0.5: rho = 0.75, eff = 1, sim = 1 * 1 * 0.5.
    CHECK(similarity_to_anchor({0.5f, 0, 0}, red) == Approx(0.5));
    // (1, 0.75, 0.5): h = 30 deg, s = 0.5, v = 1: hue_sim 2/3, rho 0.75, eff 0.75, sim 0.75 * 0.5.
    CHECK(similarity_to_anchor({1, 0.75f, 0.5f}, red) == Approx(0.375));
    // Against cyan as the anchor, cyan is 1 and red 0.
    CHECK(similarity_to_anchor({0, 1, 1}, {0, 1, 1}) == Approx(1.0));
    CHECK(similarity_to_anchor({1, 0, 0}, {0, 1, 1}) == Approx(0.0).margin(1e-7));
}

TEST_CASE("the score is r^2 of error against similarity^q, by hand", "[evaluation]") {
    // x = 1..4, y = (x/4)^2: r = 25 / sqrt(5 * 129), r^2 = 625 / 645.
    CHECK(selectivity_score({1, 2, 3, 4}, {0.25f, 0.5f, 0.75f, 1.0f}, 2) == Approx(625.0 / 645.0));
    CHECK(selectivity_score({1, 2, 3, 4}, {0.25f, 0.5f, 0.75f, 1.0f}, 1) == Approx(1.0));
    CHECK(selectivity_score({4, 3, 2, 1}, {0.25f, 0.5f, 0.75f, 1.0f}, 1) == Approx(1.0));  // r = -1, r^2 = 1
    CHECK(selectivity_score({2, 2, 2, 2}, {0.25f, 0.5f, 0.75f, 1.0f}, 2) == 0.0);     // no damage pattern
    // Red, orange, cyan, white, mid gray: sims 1, 2/3, 0, 0, 0 (above) with
    // these errors; the values were computed independently in Python.
    const std::vector<std::array<float, 3>> five = {{1, 0, 0}, {1, 0.5f, 0}, {0, 1, 1}, {1, 1, 1}, {0.5f, 0.5f, 0.5f}};
    std::vector<float> sims;
    for (const auto& c : five) sims.push_back(similarity_to_anchor(c, {1, 0, 0}));
    const std::vector<float> errors{0.25f, 0.1f, 0.0f, 0.01f, 0.0f};
    CHECK(selectivity_score(errors, sims, 2) == Approx(0.9958036401896022).epsilon(1e-5));
    CHECK(selectivity_score(errors, sims, 3) == Approx(0.9890643861920576).epsilon(1e-5));
    // Per-colour error: mean over channels of squares.
    const float out[3] = {0.5f, 0.5f, 0.5f}, in[3] = {1, 0, 0};
    CHECK(colour_error(out, in, 3) == Approx(0.25));
}

TEST_CASE("fixture checkpoints: the evaluation matches a double-precision oracle and the committed table", "[evaluation][fixture]") {
    for (const std::string name : {"anchored-seed0", "isolated-seed15"}) {
        INFO(name);
        const Model m = load_model(fixture(name + ".safetensors"));
        const EvaluationSettings s = default_evaluation(m.shape.latent, 8);
        const EvaluationResult r = evaluate(m, s);
        REQUIRE(r.variants.size() == 3);
        const Suppression& sup = s.interventions[0].suppression;
        const auto& colours = named_colours();
        for (size_t i = 0; i < colours.size(); ++i) {
            INFO(colours[i].name);
            CHECK(r.variants[0].errors[i] == Approx(reference_error(m, colours[i].rgb, {}, nullptr)).margin(1e-5));
            CHECK(r.variants[1].errors[i] == Approx(reference_error(m, colours[i].rgb, {}, &sup)).margin(1e-5));
            CHECK(r.variants[2].errors[i] == Approx(reference_error(m, colours[i].rgb, {0}, nullptr)).margin(1e-5));
        }
        // Scores over the 8^3 training grid, from the oracle's errors.
        const ColourSet grid = training_grid(8);
        std::vector<double> sim2, sim3, e_sup, e_abl;
        for (int i = 0; i < grid.size(); ++i) {
            const std::array<float, 3> c{grid.rgb[3 * size_t(i)], grid.rgb[3 * size_t(i) + 1], grid.rgb[3 * size_t(i) + 2]};
            const double sim = similarity_to_anchor(c, {1, 0, 0});
            sim2.push_back(sim * sim);
            sim3.push_back(sim * sim * sim);
            e_sup.push_back(reference_error(m, c, {}, &sup));
            e_abl.push_back(reference_error(m, c, {0}, nullptr));
        }
        CHECK(r.variants[1].score == Approx(pearson_squared(e_sup, sim2)).margin(1e-4));
        CHECK(r.variants[2].score == Approx(pearson_squared(e_abl, sim3)).margin(1e-4));
        // The same table every time, and the one committed beside the fixture.
        const std::string table = evaluation_table(r);
        CHECK(table == evaluation_table(evaluate(m, s)));
        check_same_table(table, read_file(fixture(name + ".table.txt")));
        const auto want = nlohmann::json::parse(read_file(fixture(name + ".evaluation.json")));
        for (size_t v = 0; v < 2; ++v) {
            const auto& w = want.at("interventions").at(v);
            CHECK(r.variants[v + 1].score == Approx(w.at("score").get<double>()).margin(1e-5));
            for (size_t i = 0; i < colours.size(); ++i)
                CHECK(r.variants[v + 1].errors[i] == Approx(w.at("errors").at(colours[i].name).get<double>()).margin(1e-6));
        }
    }
}

TEST_CASE("the fixtures show the paper's pattern", "[evaluation][fixture][paper]") {
    // Anchored: suppression takes red near the 1/4 bound and leaves far
    // colours alone; ablating dim 0 is not selective (cyan is damaged).
    const Model anchored = load_model(fixture("anchored-seed0.safetensors"));
    const EvaluationResult a = evaluate(anchored, default_evaluation(4, 8));
    const auto at = [](const VariantResult& v, const std::string& colour) {
        for (size_t i = 0; i < named_colours().size(); ++i)
            if (named_colours()[i].name == colour) return double(v.errors[i]);
        FAIL("no colour " << colour);
        return 0.0;
    };
    CHECK(at(a.variants[1], "red") > 0.2);
    CHECK(at(a.variants[1], "red") < 0.3);
    CHECK(at(a.variants[1], "cyan") < 0.001);
    CHECK(at(a.variants[1], "lime") < 0.001);
    CHECK(at(a.variants[2], "cyan") > 0.1);
    CHECK(a.variants[2].score < 0.5);
    // Isolated: ablating dim 0 takes red near 1/3 and leaves cyan alone.
    const Model isolated = load_model(fixture("isolated-seed15.safetensors"));
    const EvaluationResult b = evaluate(isolated, default_evaluation(5, 8));
    CHECK(at(b.variants[2], "red") > 0.3);
    CHECK(at(b.variants[2], "cyan") < 0.001);
    CHECK(b.variants[2].score > 0.9);
}

TEST_CASE("the evaluation section: defaults, strict keys with file:line, overrides", "[evaluation][config]") {
    const ExperimentConfig none = config_file("none.yaml", "");
    const EvaluationSettings d = evaluation_settings(none, 4);
    REQUIRE(d.interventions.size() == 2);
    CHECK(d.interventions[0].kind == InterventionKind::Suppression);
    CHECK(d.interventions[0].suppression.direction == std::vector<float>{1, 0, 0, 0});
    CHECK(d.interventions[0].suppression.falloff == 0);
    CHECK(d.interventions[0].suppression.strength == 1);
    CHECK(d.interventions[0].suppression.power == 0);
    CHECK(d.interventions[0].q == 2);
    CHECK(d.interventions[1].kind == InterventionKind::Ablation);
    CHECK(d.interventions[1].dims == std::vector<int>{0});
    CHECK(d.interventions[1].q == 3);
    CHECK(d.select_by == "suppressed");

    const ExperimentConfig full = config_file("full.yaml", R"(evaluation:
  anchor_colour: [0, 1, 1]
  rgb_grid: 4
  hsv_grid: [6, 3, 2]
  interventions:
    - {name: soft, kind: suppression, direction: [0, 2, 0, 0], falloff: 0.5, strength: 0.5, power: 2}
    - {name: cut, kind: pruning, dims: [1, 3], q: 2}
  select_by: cut
)");
    const EvaluationSettings f = evaluation_settings(full, 4);
    CHECK(f.anchor_rgb == std::array<float, 3>{0, 1, 1});
    CHECK(f.rgb_grid == 4);
    CHECK(f.hsv_grid == std::array<int, 3>{6, 3, 2});
    REQUIRE(f.interventions.size() == 2);
    CHECK(f.interventions[0].suppression.falloff == 0.5f);
    CHECK(f.interventions[1].kind == InterventionKind::Pruning);
    CHECK(f.interventions[1].q == 2);
    CHECK(f.select_by == "cut");

    auto error_of = [](const std::string& yaml) {
        try {
            evaluation_settings(config_file("bad.yaml", yaml), 4);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: s, kind: suppression, falof: 0}\n"),
               Catch::Contains("bad.yaml:8") && Catch::Contains("evaluation.interventions.0.falof: unknown key"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: s, kind: suppression, direction: [1, 0]}\n"),
               Catch::Contains("bad.yaml:8") && Catch::Contains("direction") && Catch::Contains("4 numbers"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: s, kind: suppression, falloff: 1.5}\n"),
               Catch::Contains("falloff: must be between 0 and 1"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: a, kind: ablation,\n       dims: [0, 4]}\n"),
               Catch::Contains("bad.yaml:9") && Catch::Contains("dims.1: dim 4 is out of range"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: a, kind: pruning, dims: [0, 1, 2, 3]}\n"),
               Catch::Contains("would prune every latent dim"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: a, kind: ablate}\n"),
               Catch::Contains("unknown kind 'ablate' (expected suppression, ablation or pruning)"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: a, kind: ablation}\n    - {name: a, kind: ablation}\n"),
               Catch::Contains("'a' is used twice"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: 'a b', kind: ablation}\n"),
               Catch::Contains("not a usable name"));
    CHECK_THAT(error_of("evaluation:\n  select_by: nothing\n"),
               Catch::Contains("select_by: 'nothing' names no intervention (expected one of: suppressed, ablated)"));
    CHECK_THAT(error_of("evaluation:\n  grids: maybe\n"), Catch::Contains("bad.yaml:7") && Catch::Contains("true or false"));
    CHECK_THAT(error_of("evaluation:\n  colour: [1, 0, 0]\n"), Catch::Contains("evaluation.colour: unknown key"));
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {kind: ablation}\n"),
               Catch::Contains("bad.yaml:8") && Catch::Contains("interventions.0.name: is missing"));
    // Keys that are lists (fuzzer: `direction:, [1, 0]` escaped as yaml-cpp's "bad conversion").
    CHECK_THAT(error_of("evaluation:\n  interventions:\n    - {name: s, kind: suppression, direction:, [1, 0, 0, 0]}\n"),
               Catch::Contains("bad.yaml:8") && Catch::Contains("expected a plain key, got a list"));
    CHECK_THAT(error_of("evaluation:\n  ? [1, 2]\n  : 3\n"), Catch::Contains("evaluation: expected a plain key"));

    // An override that breaks a value is named as such.
    const fs::path dir = fresh_dir("sca_test_eval_override");
    std::ofstream(dir / "o.yaml") << kMinimalConfig << "evaluation:\n  interventions:\n    - {name: s, kind: suppression}\n";
    const ExperimentConfig o = load_experiment((dir / "o.yaml").string(), {"evaluation.interventions.0.strength=-1"});
    CHECK_THROWS_WITH(evaluation_settings(o, 4), Catch::Contains("command-line override") && Catch::Contains("strength"));

    // Command-line interventions: checked the same way, added or replacing by name.
    EvaluationSettings cli = default_evaluation(4, 8);
    add_intervention(cli, parse_intervention("{name: ablated, kind: ablation, dims: [2]}", 4, "--ablate"));
    add_intervention(cli, parse_intervention("{name: half, kind: suppression, falloff: 0.5, power: 1}", 4, "--intervention"));
    REQUIRE(cli.interventions.size() == 3);
    CHECK(cli.interventions[1].dims == std::vector<int>{2});
    CHECK(cli.interventions[2].suppression.direction == std::vector<float>{1, 0, 0, 0});
    CHECK_THROWS_WITH(parse_intervention("{name: x, kind: ablation, dims: [9]}", 4, "--ablate '9'"),
                      Catch::Contains("--ablate '9'") && Catch::Contains("out of range"));
}

TEST_CASE("NPY files have numpy's header and round-trip", "[evaluation][npy]") {
    const std::string bytes = encode_npy({2, 3}, {1, 2, 3, 4, 5, -0.5f});
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const size_t header = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
    CHECK((10 + header) % 64 == 0);
    CHECK(bytes[10 + header - 1] == '\n');
    CHECK(bytes.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == 10);
    CHECK(bytes.size() == 10 + header + 24);
    const NpyArray a = decode_npy(bytes, "mem");
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(a.data == std::vector<float>{1, 2, 3, 4, 5, -0.5f});
    CHECK(encode_npy({5}, std::vector<float>(5)).find("'shape': (5,), }") != std::string::npos);
    CHECK_THROWS(encode_npy({2, 2}, {1, 2, 3}));
    CHECK_THROWS(decode_npy(bytes.substr(0, bytes.size() - 1), "mem"));
}

TEST_CASE("write_evaluation writes the JSON, the grids and the pruned model", "[evaluation][outputs]") {
    const Model m = load_model(fixture("isolated-seed15.safetensors"));
    EvaluationSettings s = default_evaluation(5, 8);
    s.rgb_grid = 4;
    s.hsv_grid = {6, 3, 2};
    add_intervention(s, parse_intervention("{name: pruned, kind: pruning, dims: [0]}", 5, "test"));
    const EvaluationResult r = evaluate(m, s);
    const fs::path dir = fresh_dir("sca_test_eval_outputs");
    write_evaluation(dir.string(), r, "model.safetensors");
    const auto j = nlohmann::json::parse(read_file((dir / kEvaluationFile).string()));
    CHECK(j.at("select_by") == "suppressed");
    CHECK(j.at("colours").size() == 17);
    REQUIRE(j.at("interventions").size() == 3);
    const auto& sup = j.at("interventions").at(0);
    CHECK(sup.at("kind") == "suppression");
    CHECK(sup.at("anchor").at("bound").get<double>() == 0.25);
    CHECK(sup.at("anchor").at("error").get<double>() == Approx(r.variants[1].anchor_error));
    CHECK(sup.at("latents").at("red").size() == 5);
    CHECK(j.at("interventions").at(1).at("anchor").at("bound").get<double>() == Approx(1.0 / 3.0));
    const auto& pruned = j.at("interventions").at(2);
    CHECK(pruned.at("latents").at("cyan").size() == 4);
    // Pruned and ablated agree (docs/method.md §7).
    CHECK(pruned.at("score").get<double>() == j.at("interventions").at(1).at("score").get<double>());
    const Model small = load_model((dir / "pruned" / "pruned.safetensors").string());
    CHECK(small.shape.latent == 4);
    const NpyArray lat = load_npy((dir / "evaluation/rgb_grid.ablated.latents.npy").string());
    CHECK(lat.shape == std::vector<int64_t>{4, 4, 4, 5});
    for (size_t i = 0; i < lat.data.size(); i += 5) CHECK(lat.data[i] == 0.0f);  // dim 0 ablated
    const NpyArray out = load_npy((dir / "evaluation/hsv_grid.baseline.outputs.npy").string());
    CHECK(out.shape == std::vector<int64_t>{6, 3, 2, 3});
    const NpyArray plat = load_npy((dir / "evaluation/hsv_grid.pruned.latents.npy").string());
    CHECK(plat.shape == std::vector<int64_t>{6, 3, 2, 4});
    const NpyArray hsv = load_npy((dir / "evaluation/hsv_grid.hsv.npy").string());
    CHECK(hsv.data[size_t(((1 * 3 + 2) * 2 + 1) * 3)] == Approx(1.0f / 6.0f));  // h of [1][2][1]
    CHECK(hsv.data[size_t(((1 * 3 + 2) * 2 + 1) * 3) + 1] == 1.0f);           // s
}

namespace {
RunScores run(const std::string& name, std::vector<double> losses, double score) {
    RunScores r;
    r.dir = name;
    r.objective_names = {"recon", "anchor", "score:suppressed"};
    r.minimise = std::move(losses);
    r.score = score;
    return r;
}
}  // namespace

TEST_CASE("the Pareto front and the best run", "[evaluation][selection]") {
    const std::vector<RunScores> runs = {
        run("a", {1.0, 1.0}, 0.5),   // dominated by b
        run("b", {0.5, 1.0}, 0.6),   // front
        run("c", {0.1, 2.0}, 0.4),   // front: best recon
        run("d", {0.9, 0.9}, 0.95),  // front: best score
        run("e", {0.9, 0.9}, 0.9),   // dominated by d
        run("f", {std::nan(""), 0.1}, 0.99),  // NaN recon is worst, but its anchor loss is best: front
    };
    CHECK(dominates(runs[1], runs[0]));
    CHECK_FALSE(dominates(runs[0], runs[1]));
    CHECK_FALSE(dominates(runs[1], runs[1]));  // not strictly better anywhere
    CHECK(dominates(runs[3], runs[4]));
    const Selection s = select_runs(runs);
    CHECK(s.front == std::vector<size_t>{1, 2, 3, 5});
    CHECK(s.best == 5);
    const Selection without_nan = select_runs({runs[0], runs[1], runs[2], runs[3], runs[4]});
    CHECK(without_nan.best == 3);
    RunScores other = run("g", {0.1, 0.1}, 1);
    other.objective_names[1] = "separate";
    CHECK_THROWS_WITH(select_runs({runs[0], other}), Catch::Contains("objectives differ"));
}
