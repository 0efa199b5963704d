// Schedule search (issue 16): sampled axes, content-derived run ids that
// survive a growing sweep, per-configuration statistics, racing over seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "helpers.hpp"
#include "host/atomic_file.hpp"
#include "host/errors.hpp"
#include "host/sweep.hpp"
#include "host/sweep_configs.hpp"
#include "host/sweep_sampling.hpp"
#include "host/sweep_search.hpp"

namespace fs = std::filesystem;
using namespace sca;

namespace {

struct Dir {
    fs::path path;
    explicit Dir(const std::string& name) {
        path = fs::temp_directory_path() / ("sca-test-search-" + name + "-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
        std::ofstream(path / "tiny.yaml") << test::kShortExperiment;
    }
    ~Dir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

std::string error_of(const Dir& d, const std::string& text) {
    try {
        expand_sweep(load_sweep(d.write("bad.yaml", text)), false);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

SweepOptions quiet_cpu(const std::string& file, const std::string& out) {
    SweepOptions o;
    o.sweep_file = file;
    o.out = out;
    o.quiet = true;
    o.jobs = 2;
    o.backend = "cpu";
    return o;
}

std::string sample_sweep(int count, const std::string& seeds, const std::string& extra_axis = "") {
    return "base: tiny.yaml\naxes:\n" + extra_axis +
           "  - sample:\n"
           "      count: " + std::to_string(count) + "\n"
           "      seed: 7\n"
           "      keys:\n"
           "        schedule.keyframes.2.anchor: {log-uniform: [0.01, 1]}\n"
           "        schedule.keyframes.2.lr: {uniform: [0.02, 0.08]}\n"
           "  - seed: " + seeds + "\n";
}

}  // namespace

TEST_CASE("Sobol samples are nested in their count, Latin ones fill every stratum once", "[search][sampling]") {
    const auto small = unit_sample("sobol", 8, 3, 5), large = unit_sample("sobol", 32, 3, 5);
    for (size_t i = 0; i < small.size(); ++i) CHECK(small[i] == large[i]);
    // Low discrepancy: every eighth of [0, 1) holds exactly one of the first 8 points, per dimension
    // (a power-of-two prefix of a shifted Sobol sequence is a net).
    for (int d = 0; d < 3; ++d) {
        std::set<int> cells;
        for (const auto& p : small) {
            CHECK(p[d] >= 0.0);
            CHECK(p[d] < 1.0);
            cells.insert(int(p[d] * 8));
        }
        CHECK(cells.size() == 8);
    }
    CHECK(unit_sample("sobol", 8, 3, 6) != small);  // the seed shifts the points
    const auto latin = unit_sample("latin", 10, 2, 3);
    for (int d = 0; d < 2; ++d) {
        std::set<int> cells;
        for (const auto& p : latin) cells.insert(int(p[d] * 10));
        CHECK(cells.size() == 10);
    }
    CHECK(unit_sample("latin", 10, 2, 3) == latin);  // deterministic
}

TEST_CASE("sampled axes: laws, bounds, and clear errors", "[search][sampling]") {
    Dir d("laws");
    const auto runs = expand_sweep(load_sweep(d.write("s.yaml", R"(base: tiny.yaml
axes:
  - sample:
      count: 40
      method: latin
      seed: 3
      keys:
        schedule.keyframes.2.anchor: {uniform: [0.05, 0.2]}
        schedule.keyframes.2.separate: {log-uniform: [1.0e-4, 0.1]}
        schedule.keyframes.1.step: {integer: [5, 8]}
        regularizers.separate.power: {choice: [50, 100]}
)")));
    REQUIRE(runs.size() == 40);
    std::set<std::string> steps, powers;
    for (const auto& r : runs) {
        REQUIRE(r.axis_overrides.size() == 4);
        const double anchor = std::stod(r.axis_overrides[0].substr(r.axis_overrides[0].find('=') + 1));
        const double sep = std::stod(r.axis_overrides[1].substr(r.axis_overrides[1].find('=') + 1));
        CHECK(anchor >= 0.05);
        CHECK(anchor <= 0.2);
        CHECK(sep >= 1e-4 * 0.9999);
        CHECK(sep <= 0.1);
        steps.insert(r.axis_overrides[2]);
        powers.insert(r.axis_overrides[3]);
        const ExperimentConfig cfg = parse_experiment(r.config_text, r.base);
        CHECK(cfg.weights_at(60)[1] == Approx(anchor).epsilon(1e-6));
    }
    CHECK(steps == std::set<std::string>{"schedule.keyframes.1.step=5", "schedule.keyframes.1.step=6",
                                         "schedule.keyframes.1.step=7", "schedule.keyframes.1.step=8"});
    CHECK(powers.size() == 2);
    // A log-uniform sample spreads over decades: about half the points below the geometric mean.
    size_t below = 0;
    for (const auto& r : runs) below += std::stod(r.axis_overrides[1].substr(r.axis_overrides[1].find('=') + 1)) < std::sqrt(1e-4 * 0.1);
    CHECK(below == 20);  // Latin: exactly one point per stratum
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {count: 4, keys: {seed: {normal: [0, 1]}}}\n"),
               Catch::Contains("unknown law 'normal'"));
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {count: 4, keys: {model.hidden: {log-uniform: [0, 8]}}}\n"),
               Catch::Contains("log-uniform needs 0 < lo"));
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {keys: {model.hidden: {integer: [4, 8]}}}\n"),
               Catch::Contains("axes.0.sample.count"));
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {count: 3, method: halton, keys: {model.hidden: {integer: [4, 8]}}}\n"),
               Catch::Contains("expected sobol or latin"));
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {count: 3, keys: {model.hidden: {uniform: [8, 4]}}}\n"),
               Catch::Contains("lo < hi"));
    CHECK_THAT(error_of(d, "base: tiny.yaml\naxes:\n  - sample: {count: 3, keys: {model.hidden: {integer: [4.5, 8]}}}\n"),
               Catch::Contains("whole numbers"));
    // Repeated points (4 integers, 10 draws) are dropped, not an error.
    CHECK(expand_sweep(load_sweep(d.write("r.yaml", "base: tiny.yaml\naxes:\n  - sample: {count: 10, keys: {model.hidden: {integer: [5, 8]}}}\n")), false)
              .size() == 4);
}

TEST_CASE("growing a sweep (more samples, more seeds, a one-value axis) keeps every finished run", "[search][ids]") {
    Dir d("grow");
    const std::string out = (d.path / "out").string();
    const SweepReport first = run_sweep(quiet_cpu(d.write("s.yaml", sample_sweep(4, "0..1")), out));
    REQUIRE(first.trained == 8);
    REQUIRE(first.failures.empty());
    std::map<std::string, std::string> before;
    for (const auto& e : fs::directory_iterator(fs::path(out) / "runs"))
        before[e.path().filename().string()] = read_file((e.path() / "sweep_done.json").string());
    // Six points instead of four, three seeds instead of two, and a one-value axis that
    // restates the base's batch size: 18 runs, of which the 8 finished ones are kept.
    const std::string grown = sample_sweep(6, "0..2", "  - data.batch: [32]\n");
    const auto runs = expand_sweep(load_sweep(d.write("s.yaml", grown)));
    size_t kept = 0;
    for (const auto& r : runs) kept += before.count(r.id);
    CHECK(kept == 8);
    const SweepReport second = run_sweep(quiet_cpu(d.path / "s.yaml", out));
    CHECK(second.skipped == 8);
    CHECK(second.trained == 10);
    for (const auto& [id, marker] : before) CHECK(read_file((fs::path(out) / "runs" / id / "sweep_done.json").string()) == marker);
    // A one-value axis that changes the config is a different run (new content, new id).
    const auto changed = expand_sweep(load_sweep(d.write("c.yaml", sample_sweep(4, "0..1", "  - data.batch: [16]\n"))));
    for (const auto& r : changed) CHECK(before.count(r.id) == 0);
}

TEST_CASE("quantiles and robust statistics", "[search][configs]") {
    const std::vector<double> v{0.9, 0.1, 0.5, 0.7, 0.3};
    CHECK(quantile(v, 0.0) == Approx(0.1));
    CHECK(quantile(v, 1.0) == Approx(0.9));
    CHECK(quantile(v, 0.5) == Approx(0.5));
    CHECK(quantile(v, 0.1) == Approx(0.18));  // between the two lowest: 0.1 + 0.4 * (0.3 - 0.1)
    CHECK(statistic_of(v, "p10") == Approx(0.18));
    CHECK(statistic_of(v, "mean") == Approx(0.5));
    CHECK(statistic_of(v, "min") == Approx(0.1));
    CHECK_THROWS_AS(statistic_of(v, "p99"), ConfigError);
}

TEST_CASE("configurations are ranked by the robust statistic, and a concept left in place cannot win", "[search][configs]") {
    // A collected table by hand: config a (scores high, but its ablation barely moves
    // the anchor colour), b (robust), c (a lucky seed, a bad one).
    CollectResult r;
    r.header = {"index", "id", "status", "x", "seed", "config", "score_ablated", "anchor_error_ablated", "anchor_bound_ablated"};
    auto row = [&](const std::string& x, int seed, const std::string& status, double score, double err) {
        r.rows.push_back({std::to_string(r.rows.size()), x + std::to_string(seed), status, x, std::to_string(seed), "tiny-" + x,
                          std::to_string(score), std::to_string(err), "0.333333"});
    };
    for (int s = 0; s < 10; ++s) row("a", s, "finished", 0.99, 0.05);
    for (int s = 0; s < 10; ++s) row("b", s, "finished", 0.85 + 0.01 * s, 0.33);
    for (int s = 0; s < 10; ++s) row("c", s, "finished", s == 0 ? 0.1 : 0.97, 0.34);
    row("c", 10, "failed", 0, 0);
    r.groups.push_back({});
    r.groups.back().name = "tiny";
    r.groups.back().score_name = "ablated";
    const ConfigTable t = group_configs(r, {});
    REQUIRE(t.configs.size() == 3);
    CHECK(t.columns == std::vector<std::string>{"x"});
    CHECK(t.configs[0].id == "tiny-b");  // p10 0.859 against c's ~0.1 (its bad seed and its failed run)
    CHECK(t.configs[0].rank == 1);
    CHECK(t.configs[1].id == "tiny-c");
    CHECK(t.configs[1].failed == 1);
    CHECK(t.configs[1].scores.size() == 11);
    CHECK(t.configs[2].id == "tiny-a");  // the best scores, but outside the anchor-error band
    CHECK_FALSE(t.configs[2].error_ok);
    CHECK(t.configs[2].collapsed == 10);
    CHECK(t.configs[0].p10 == Approx(0.859));
    CHECK(t.configs[0].median == Approx(0.895));
    // By the median, c (0.97) beats b.
    ConfigRules by_median;
    by_median.statistic = "median";
    CHECK(group_configs(r, by_median).configs[0].id == "tiny-c");
    // A score that the table does not have is an error naming the column.
    r.groups.back().score_name = "pruned";
    CHECK_THROWS_WITH(group_configs(r, {}), Catch::Contains("no column 'score_pruned'"));
}

TEST_CASE("sca collect writes configs.csv: one row per configuration", "[search][configs]") {
    Dir d("configs");
    const std::string out = (d.path / "out").string();
    run_sweep(quiet_cpu(d.write("s.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.anchor: [0.05, 0.1, 0.2]\n  - seed: 0..3\n"), out));
    const CollectResult c = collect_sweep({out, "", ""});
    ConfigTable t = group_configs(c, {});
    write_configs_csv(t, (fs::path(out) / "configs.csv").string());
    REQUIRE(t.configs.size() == 3);
    for (const auto& cfg : t.configs) {
        CHECK(cfg.runs == 4);
        CHECK(cfg.scores.size() == 4);
        CHECK(cfg.min <= cfg.p10);
        CHECK(cfg.p10 <= cfg.median);
        CHECK(cfg.bound == Approx(1.0 / 3.0));
    }
    const std::string csv = read_file((fs::path(out) / "configs.csv").string());
    CHECK(csv.rfind("setup,config,schedule.keyframes.2.anchor,runs,failed,missing,collapsed,min,p10,p25,median,mean,max,"
                    "anchor_error_median,anchor_bound,error_ok,statistic_p10,rank,scored_by\n", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
}

namespace {

std::string search_file(const Dir& d, int rungs = 2) {
    d.write("configs.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.anchor: [0.02, 0.05, 0.1, 0.2]\n");
    return d.write("search.yaml", "sweep: configs.yaml\nseeds: 2\ngrow: 2\nkeep: 0.5\nrungs: " + std::to_string(rungs) + "\n");
}

SearchOptions search_options(const std::string& out) {
    SearchOptions o;
    o.sweep.out = out;
    o.sweep.quiet = true;
    o.sweep.jobs = 2;
    o.sweep.backend = "cpu";
    return o;
}

}  // namespace

TEST_CASE("racing: each rung keeps the best fraction, adds seeds, and reuses the runs it has", "[search][racing]") {
    Dir d("race");
    const SearchSpec spec = load_search(search_file(d, 3));
    CHECK(rung_seeds(spec, 2) == 8);
    const std::string out = (d.path / "out").string();
    const SearchReport r = run_search(spec, search_options(out));
    REQUIRE(r.finished);
    REQUIRE(r.rungs.size() == 3);
    CHECK(r.rungs[0].runs == 8);   // 4 configurations x 2 seeds
    CHECK(r.rungs[1].runs == 8);   // 2 x 4
    CHECK(r.rungs[1].trained == 4);  // seeds 0-1 of the survivors were trained on rung 0
    CHECK(r.rungs[2].runs == 8);   // 1 x 8
    CHECK(r.rungs[2].trained == 4);
    CHECK(r.trained == 16);
    // The survivors are the best of their rung by p10 (eligible first).
    const ConfigTable& t0 = r.rungs[0].table;
    CHECK(r.rungs[0].survivors == std::vector<std::string>{t0.configs[0].id, t0.configs[1].id});
    CHECK(r.rungs[1].survivors.size() == 1);
    CHECK(r.rungs[2].table.configs.size() == 1);
    CHECK(r.rungs[2].table.configs[0].runs == 8);
    // Every rung folder collects like a sweep; search.json records the rungs.
    CHECK(fs::exists(fs::path(out) / "rung-2" / "configs.csv"));
    const auto j = nlohmann::json::parse(read_file((fs::path(out) / "search.json").string()));
    CHECK(j.at("finished").get<bool>());
    CHECK(j.at("rungs").size() == 3);
    CHECK(j.at("rungs")[2].at("best").at("config") == r.rungs[2].table.configs[0].id);
    // Rerunning trains nothing and reaches the same result.
    const SearchReport again = run_search(spec, search_options(out));
    CHECK(again.trained == 0);
    CHECK(again.rungs[2].table.configs[0].id == r.rungs[2].table.configs[0].id);
}

TEST_CASE("racing rung by rung, in shards (what the Slurm array tasks do), reaches the same result", "[search][racing][slurm]") {
    Dir d("shards");
    const SearchSpec spec = load_search(search_file(d));
    const std::string whole = (d.path / "whole").string(), parts = (d.path / "parts").string();
    const SearchReport ref = run_search(spec, search_options(whole));
    for (int rung = 0; rung < 2; ++rung) {
        const SearchSlurmPlan plan = write_search_slurm(spec, parts, "/opt/sca/bin/sca");
        REQUIRE(plan.rung == rung);
        const std::string a = read_file(plan.array_script), adv = read_file(plan.advance_script);
        CHECK(a.find("#SBATCH --array=0-0\n") != std::string::npos);
        CHECK(a.find(" search '" + fs::absolute(spec.source).lexically_normal().string() + "' --out '") != std::string::npos);
        CHECK(a.find("--rung " + std::to_string(rung) + " --shard \"${SLURM_ARRAY_TASK_ID}/1\"") != std::string::npos);
        CHECK(adv.find("--slurm --submit") != std::string::npos);
        for (const auto& script : {plan.array_script, plan.advance_script})
            CHECK(std::system(("bash -n '" + script + "'").c_str()) == 0);
        // A later rung cannot run before this one is complete.
        if (rung == 0) {
            SearchOptions early = search_options(parts);
            early.only_rung = 1;
            CHECK_THROWS_WITH(run_search(spec, early), Catch::Contains("rung 0 is not complete"));
        }
        for (int shard = 0; shard < 3; ++shard) {
            SearchOptions o = search_options(parts);
            o.only_rung = rung;
            o.sweep.shard = {shard, 3};
            run_search(spec, o);
        }
    }
    CHECK(write_search_slurm(spec, parts, "sca").rung == -1);  // finished: nothing more to submit
    const SearchReport done = search_status(spec, parts);
    REQUIRE(done.finished);
    CHECK(done.rungs[1].table.configs[0].id == ref.rungs[1].table.configs[0].id);
    CHECK(done.rungs[1].table.configs[0].p10 == ref.rungs[1].table.configs[0].p10);
}

TEST_CASE("search Slurm scripts refuse what could become a command, as a sweep's do", "[search][slurm][hardening]") {
    Dir d("slurm-inject");
    const SearchSpec spec = load_search(search_file(d));
    const std::string out = (d.path / "out").string();
    for (const std::string bad : {"1:00\nrm -rf ~", "$(touch pwned)", "`id`", "1:00; id"}) {
        SearchSpec s = spec;
        s.sweep.slurm.time = bad;
        CHECK_THROWS_AS(write_search_slurm(s, out, "/opt/sca/bin/sca"), ConfigError);
    }
    SearchSpec s = spec;
    s.sweep.slurm.options = {"--mem=4G\n#SBATCH --wrap=id"};
    CHECK_THROWS_AS(write_search_slurm(s, out, "/opt/sca/bin/sca"), ConfigError);
    CHECK_THROWS_AS(write_search_slurm(spec, out, "/opt/sca/bin/sca\nid"), ConfigError);
    // Plain values (a space in --out included) make scripts bash accepts.
    const SearchSlurmPlan plan = write_search_slurm(spec, (d.path / "ok dir").string(), "/opt/sca/bin/sca");
    for (const auto& script : {plan.array_script, plan.advance_script})
        CHECK(std::system(("bash -n '" + script + "'").c_str()) == 0);
}

TEST_CASE("bad search files: errors name the file and key", "[search][errors]") {
    Dir d("bad");
    d.write("configs.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.anchor: [0.02, 0.05]\n");
    d.write("seeded.yaml", "base: tiny.yaml\naxes:\n  - seed: 0..3\n");
    auto err = [&](const std::string& text) {
        try {
            load_search(d.write("s.yaml", text));
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK_THAT(err("seeds: 2\n"), Catch::Contains("sweep") && Catch::Contains("is required"));
    CHECK_THAT(err("sweep: seeded.yaml\n"), Catch::Contains("a search draws the seeds itself"));
    CHECK_THAT(err("sweep: configs.yaml\ngrow: 1\n"), Catch::Contains("grow") && Catch::Contains("from 2 to 100"));
    CHECK_THAT(err("sweep: configs.yaml\nkeep: 0\n"), Catch::Contains("keep"));
    CHECK_THAT(err("sweep: configs.yaml\nstatistic: p5\n"), Catch::Contains("unknown statistic 'p5'"));
    CHECK_THAT(err("sweep: configs.yaml\nrungz: 3\n"), Catch::Contains("s.yaml:2") && Catch::Contains("unknown key"));
    CHECK_THAT(err("sweep: nothere.yaml\n"), Catch::Contains("no sweep file"));
}

TEST_CASE("relative keyframes move with their absolute neighbours (docs/sweeps.md's table)", "[search][schedule]") {
    const std::string base = std::string(SCA_SOURCE_DIR) + "/experiments/isolated.yaml";
    auto steps = [&](const std::vector<std::string>& overrides) {
        return load_experiment(base, overrides).schedule.row_steps;
    };
    CHECK(steps({}) == std::vector<int>{0, 10, 248, 750, 1425, 1500});
    CHECK(steps({"schedule.keyframes.3.step=600"}) == std::vector<int>{0, 10, 198, 600, 1410, 1500});
    // Pinning keyframe 2 keeps it in place when 3 moves.
    CHECK(steps({"schedule.keyframes.2.step=248", "schedule.keyframes.3.step=600"}) == std::vector<int>{0, 10, 248, 600, 1410, 1500});
}
