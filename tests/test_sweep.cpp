// Sweeps (issue 5): expansion, run ids, shards, bad sweep files, resume
// without redoing finished runs, collect's table, Slurm scripts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_collect.hpp"
#include "host/sweep/sweep_run.hpp"
#include "host/sweep/sweep_slurm.hpp"
#include "sweep_fixtures.hpp"

namespace fs = std::filesystem;
using namespace sca;

namespace {

const std::string kTinyExperiment = test::tiny_anchor_experiment(
    "    - {name: suppressed, kind: suppression, direction: [1, 0, 0, 0], falloff: 0, strength: 1, power: 0}\n"
    "    - {name: ablated, kind: ablation, dims: [0]}\n");

struct TempDir : test::SweepDir {
    explicit TempDir(const std::string& name) : SweepDir("sca-test-sweep-", name, kTinyExperiment) {}
};

std::string error_of(const std::string& sweep_text, const TempDir& dir) {
    try {
        const std::string file = dir.write("bad.yaml", sweep_text);
        expand_sweep(load_sweep(file), true);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}


std::map<std::string, std::string> markers(const std::string& out) {
    std::map<std::string, std::string> m;
    for (const auto& d : fs::directory_iterator(fs::path(out) / sweep_files::kRuns))
        if (fs::exists(d.path() / sweep_files::kDone))
            m[d.path().filename().string()] = read_file((d.path() / sweep_files::kDone).string());
    return m;
}

}  // namespace

TEST_CASE("sweep expansion: grid x zip x seed range, last axis fastest, overrides and resolved configs", "[sweep]") {
    TempDir t("expand");
    const std::string file = t.write("s.yaml", R"(base: tiny.yaml
set: {data.batch: 16}
axes:
  - schedule.keyframes.2.anchor: [0.05, 0.2]
  - zip:
      schedule.keyframes.1.lr: [0.01, 0.02, 0.03]
      model.hidden: [8, 12, 16]
  - seed: 3..6
)");
    const SweepSpec spec = load_sweep(file);
    const auto runs = expand_sweep(spec);
    REQUIRE(runs.size() == 2 * 3 * 4);
    CHECK(sweep_columns(spec) == std::vector<std::string>{"schedule.keyframes.2.anchor", "schedule.keyframes.1.lr",
                                                           "model.hidden", "seed"});
    CHECK(runs[0].axis_overrides == std::vector<std::string>{"schedule.keyframes.2.anchor=0.05", "schedule.keyframes.1.lr=0.01",
                                                             "model.hidden=8", "seed=3"});
    CHECK(runs[1].axis_overrides.back() == "seed=4");
    CHECK(runs[4].axis_overrides[1] == "schedule.keyframes.1.lr=0.02");
    CHECK(runs[4].axis_overrides[2] == "model.hidden=12");
    CHECK(runs[12].axis_overrides[0] == "schedule.keyframes.2.anchor=0.2");
    CHECK(runs[0].overrides.front() == "data.batch=16");
    for (size_t i = 0; i < runs.size(); ++i) CHECK(runs[i].index == int(i));
    // The resolved config holds every override, the keyframe value included.
    const ExperimentConfig cfg = parse_experiment(runs[23].config_text, runs[23].base);
    CHECK(cfg.seed == 6);
    CHECK(cfg.batch == 16);
    CHECK(cfg.model.hidden == 16);
    CHECK(cfg.lr_at(10) == Approx(0.03f));
    CHECK(cfg.weights_at(60)[1] == Approx(0.2f));
    // Deterministic: the same file expands to the same runs, bit for bit.
    const auto again = expand_sweep(load_sweep(file));
    for (size_t i = 0; i < runs.size(); ++i) {
        CHECK(again[i].id == runs[i].id);
        CHECK(again[i].config_text == runs[i].config_text);
    }
}

TEST_CASE("sweep run ids are unique, readable and stable when an axis grows", "[sweep]") {
    TempDir t("ids");
    const auto small = expand_sweep(load_sweep(t.write("a.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.anchor: [0.1, 0.2]\n  - seed: 0..3\n")));
    const auto large = expand_sweep(load_sweep(t.write("b.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.anchor: [0.1, 0.2, 0.4]\n  - seed: 0..9\n")));
    std::set<std::string> ids;
    for (const auto& r : large) ids.insert(r.id);
    CHECK(ids.size() == large.size());
    for (const auto& r : small) CHECK(ids.count(r.id) == 1);  // the same overrides, the same id
    CHECK(small[1].id.rfind("0.1_001-", 0) == 0);
    // Several bases: the setup is an axis of its own and part of the id.
    std::ofstream(t.path / "other.yaml") << kTinyExperiment;
    const SweepSpec two = load_sweep(t.write("c.yaml", "base: [tiny.yaml, other.yaml]\naxes:\n  - seed: 0..1\n"));
    const auto runs = expand_sweep(two);
    REQUIRE(runs.size() == 4);
    CHECK(sweep_columns(two).front() == "base");
    CHECK(runs[2].id.rfind("other_000-", 0) == 0);
    CHECK(runs[0].id != runs[2].id);
}

TEST_CASE("shards partition the sweep: disjoint, complete, balanced", "[sweep]") {
    TempDir t("shards");
    const auto runs = expand_sweep(load_sweep(t.write("s.yaml", "base: tiny.yaml\naxes:\n  - seed: 0..22\n")), false);
    for (int n : {1, 2, 4, 7, 23, 30}) {
        std::vector<int> owner(runs.size(), -1);
        std::vector<size_t> sizes(n, 0);
        for (int i = 0; i < n; ++i)
            for (const auto& r : runs)
                if (in_shard(r, {i, n})) {
                    CHECK(owner[r.index] == -1);
                    owner[r.index] = i;
                    ++sizes[i];
                }
        CHECK(std::count(owner.begin(), owner.end(), -1) == 0);
        CHECK(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()) <= 1);
    }
    CHECK(parse_shard("3/4").index == 3);
    CHECK_THROWS_AS(parse_shard("4/4"), ConfigError);
    CHECK_THROWS_AS(parse_shard("1"), ConfigError);
    CHECK_THROWS_AS(parse_shard("0/0"), ConfigError);
}

TEST_CASE("bad sweep files: errors name the file, line and key", "[sweep][errors]") {
    TempDir t("errors");
    const std::string f = (t.path / "bad.yaml").string();
    struct Case {
        std::string text, expect_where, expect_key, expect_what;
    };
    const std::vector<Case> cases = {
        {"base: tiny.yaml\naxis:\n  - seed: 0..3\n", f + ":2", "axis", "unknown key"},
        {"axes:\n  - seed: 0..3\n", f, "base", "is required"},
        {"base: missing.yaml\n", f + ":1", "base", "no experiment file"},
        {"base: tiny.yaml\naxes:\n  - seed: 5..2\n", f + ":3", "axes.0.seed", "is empty"},
        {"base: tiny.yaml\naxes:\n  - seed: five\n", f + ":3", "axes.0.seed", "integer range"},
        {"base: tiny.yaml\naxes:\n  - seed: [1, 2, 1]\n", f + ":3", "axes.0", "twice"},
        {"base: tiny.yaml\naxes:\n  - zip:\n      seed: [1, 2]\n      data.batch: [8, 16, 32]\n", f + ":5",
         "axes.0.zip.data.batch", "same length"},
        {"base: tiny.yaml\naxes:\n  - seed: [1]\n    data.batch: [8]\n", f + ":3", "axes.0", "map of one key"},
        {"base: tiny.yaml\naxes:\n  - seed: [1]\n  - seed: [2]\n", f + ":4", "seed", "two axes"},
        {"base: tiny.yaml\naxes:\n  - seed: 0..1\n  - model.widht: [8, 16]\n", f + ":4", "model.widht", "not a valid experiment"},
        {"base: tiny.yaml\naxes:\n  - schedule.keyframes.9.anchor: [0.1]\n", f + ":3", "schedule.keyframes.9.anchor",
         "not a valid experiment"},
        {"base: tiny.yaml\naxes:\n  - data.batch: [0, 8]\n", f + ":3", "data.batch", "not a valid experiment"},
        {"base: tiny.yaml\nset: {model.latent: banana}\n", f, "set.model.latent", "not a valid experiment"},
        {"base: tiny.yaml\nslurm: {gpus: -1}\n", f + ":2", "slurm.gpus", "non-negative"},
        {"base: tiny.yaml\ntrain_log_every: 0\n", f + ":2", "train_log_every", "at least 1"},
        {"base: tiny.yaml\ntrain_log_every: ten\n", f + ":2", "train_log_every", "expected an integer"},
        {"base: tiny.yaml\nslurm: {options: [mem=4G]}\n", f + ":2", "slurm.options", "sbatch option"},
        {"base: tiny.yaml\naxes: [\n", f + ":", "", "invalid YAML"},
        {"base: tiny.yaml\naxes:\n  - seed: 0..1000\n  - data.batch: 1..1000\n", f, "axes", "more than 1000000 runs"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const std::string e = error_of(c.text, t);
        CHECK(e.rfind(c.expect_where, 0) == 0);
        CHECK(e.find(c.expect_key) != std::string::npos);
        CHECK(e.find(c.expect_what) != std::string::npos);
    }
}

TEST_CASE("a sweep of 4096 runs is planned, started, interrupted and resumed without losing or redoing a run", "[sweep][resume]") {
    TempDir t("resume");
    // 16 x 16 x 16 = 4096 runs planned; shard 0/256 (16 of them) is trained here, in two invocations.
    const std::string file = t.write("s.yaml", R"(base: tiny.yaml
axes:
  - schedule.keyframes.2.anchor: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16]
  - schedule.keyframes.2.separate: 1..16
  - seed: 0..15
)");
    const std::string out = (t.path / "out").string();
    SweepOptions o = test::quiet_cpu_sweep(file, out);
    o.shard = {0, 256};
    o.max_runs = 6;  // the interruption: only 6 runs get to finish
    const SweepReport first = run_sweep(o);
    CHECK(first.planned == 4096);
    CHECK(first.selected == 16);
    CHECK(first.trained == 6);
    CHECK(first.failures.empty());
    const auto before = markers(out);
    REQUIRE(before.size() == 6);
    // A run that was in flight when the sweep was killed: a directory without a marker.
    const auto plan = nlohmann::json::parse(read_file(out + "/sweep.json"));
    REQUIRE(plan.at("runs").size() == 4096);
    std::string in_flight;
    for (const auto& r : plan.at("runs"))
        if (r.at("index").get<int>() % 256 == 0 && !before.count(r.at("id").get<std::string>())) {
            in_flight = r.at("id").get<std::string>();
            break;
        }
    fs::create_directories(sweep_run_dir(out, in_flight));
    std::ofstream(fs::path(sweep_run_dir(out, in_flight)) / "train_log.csv") << "step,lr\n0,1e-8\n";  // half-written
    o.max_runs = -1;
    const SweepReport second = run_sweep(o);
    CHECK(second.skipped == 6);
    CHECK(second.trained == 10);
    const auto after = markers(out);
    CHECK(after.size() == 16);
    for (const auto& [id, text] : before) CHECK(after.at(id) == text);  // never redone
    CHECK(after.count(in_flight) == 1);
    // A third invocation has nothing to do.
    const SweepReport third = run_sweep(o);
    CHECK(third.trained == 0);
    CHECK(third.skipped == 16);
    CHECK(markers(out) == after);
    // Every run in the shard is complete on disk and collect sees them.
    const CollectResult c = collect_sweep({out, "", ""});
    CHECK(c.rows.size() == 4096);
    CHECK(c.groups.at(0).finished == 16);
    CHECK(c.groups.at(0).missing == 4080);
}

TEST_CASE("a diverging run is recorded as failed and the sweep goes on with the rest", "[sweep][numerical]") {
    TempDir t("diverge");
    // lr 1e30 from step 10 on makes the run's weights overflow; the other value trains normally.
    const std::string file = t.write("s.yaml", R"(base: tiny.yaml
axes:
  - schedule.keyframes.2.lr: [0.05, 1.0e30]
  - seed: 0..1
)");
    const std::string out = (t.path / "out").string();
    const SweepOptions o = test::quiet_cpu_sweep(file, out);
    const SweepReport r = run_sweep(o);
    CHECK(r.selected == 4);
    REQUIRE(r.failures.size() == 2);
    for (const auto& f : r.failures) {
        INFO(f);
        CHECK_THAT(f, Catch::StartsWith("1.0e30_") && Catch::Contains(": step ") && Catch::Contains("not finite"));
    }
    CHECK(markers(out).size() == 2);  // the two good runs finished
    size_t failed_dirs = 0;
    for (const auto& d : fs::directory_iterator(fs::path(out) / sweep_files::kRuns)) {
        const bool failed = fs::exists(d.path() / sweep_files::kFailed), done = fs::exists(d.path() / sweep_files::kDone);
        CHECK(failed != done);  // each run is one or the other
        if (failed) {
            ++failed_dirs;
            const auto j = nlohmann::json::parse(read_file((d.path() / sweep_files::kFailed).string()));
            CHECK_THAT(j.at("error").get<std::string>(), Catch::Contains("not finite"));
        }
    }
    CHECK(failed_dirs == 2);
    // A rerun retries only the failed runs (and they fail the same way).
    const SweepReport again = run_sweep(o);
    CHECK(again.skipped == 2);
    CHECK(again.failures.size() == 2);
}

TEST_CASE("a changed sweep never mixes its runs with finished runs of another config", "[sweep][resume]") {
    TempDir t("stale");
    const std::string out = (t.path / "out").string();
    SweepOptions o;
    o.sweep_file = t.write("s.yaml", "base: tiny.yaml\naxes:\n  - seed: 0..1\n");
    o.out = out;
    o.quiet = true;
    o.backend = "cpu";
    CHECK(run_sweep(o).trained == 2);
    const auto before = markers(out);
    // Run ids are content-derived (issue 16): a changed config is a new run in a new folder.
    t.write("s.yaml", "base: tiny.yaml\nset: {data.batch: 16}\naxes:\n  - seed: 0..1\n");
    const SweepReport changed = run_sweep(o);
    CHECK(changed.trained == 2);
    CHECK(changed.skipped == 0);
    const auto after = markers(out);
    CHECK(after.size() == 4);
    for (const auto& [id, m] : before) CHECK(after.at(id) == m);  // the old runs untouched
    const CollectResult c = collect_sweep({out, "", ""});
    CHECK(c.rows.size() == 2);
    for (const auto& row : c.rows) CHECK(before.count(row[1]) == 0);  // only the new runs are collected
    // A finished folder whose marker names another config (edited by hand) still stops the sweep.
    const std::string id = after.rbegin()->first;
    const fs::path marker = fs::path(out) / sweep_files::kRuns / id / sweep_files::kDone;
    auto j = nlohmann::json::parse(read_file(marker.string()));
    if (before.count(id)) t.write("s.yaml", "base: tiny.yaml\naxes:\n  - seed: 0..1\n");
    j["config_hash"] = "0000000000000000";
    write_file_atomic(marker.string(), j.dump());
    try {
        run_sweep(o);
        FAIL("expected an error");
    } catch (const IoError& e) {
        CHECK(std::string(e.what()).find("another config") != std::string::npos);
    }
}

TEST_CASE("sca collect: one row per run with overrides, metrics, scores, anchor errors, labels, front and best", "[sweep][collect]") {
    TempDir t("collect");
    std::ofstream(t.path / "other.yaml") << kTinyExperiment;
    const std::string out = (t.path / "out").string();
    SweepOptions o;
    o.sweep_file = t.write("s.yaml", "base: [tiny.yaml, other.yaml]\naxes:\n  - schedule.keyframes.2.anchor: [0.05, 0.1]\n  - seed: 0..2\n");
    o.out = out;
    o.quiet = true;
    o.backend = "cpu";
    o.shard = {0, 1};
    o.max_runs = 10;  // two runs stay missing
    run_sweep(o);
    const CollectResult c = collect_sweep({out, "", ""});
    const auto& h = c.header;
    auto col = [&](const std::string& name) {
        const auto it = std::find(h.begin(), h.end(), name);
        REQUIRE(it != h.end());
        return size_t(it - h.begin());
    };
    for (const char* name : {"index", "id", "status", "base", "schedule.keyframes.2.anchor", "seed", "val_recon", "val_separate",
                             "val_anchor", "score_suppressed", "score_ablated", "anchor_error_baseline",
                             "anchor_error_suppressed", "anchor_error_ablated", "labels_red", "wall_seconds", "pareto_front", "best"})
        col(name);
    REQUIRE(c.rows.size() == 12);
    REQUIRE(c.groups.size() == 2);
    CHECK(c.groups[0].name == "tiny");
    CHECK(c.groups[0].finished == 6);
    CHECK(c.groups[1].finished == 4);
    CHECK(c.groups[1].missing == 2);
    size_t best = 0, finished = 0;
    for (const auto& row : c.rows) {
        if (row[col("status")] != "finished") {
            CHECK(row[col("val_recon")].empty());
            continue;
        }
        ++finished;
        best += row[col("best")] == "1";
        if (row[col("best")] == "1") CHECK(row[col("pareto_front")] == "1");
        CHECK(std::stod(row[col("val_recon")]) > 0);
        CHECK(std::stod(row[col("wall_seconds")]) > 0);
        // Label counts replay the training stream: the same seed, the same count.
        const ExperimentConfig cfg = load_experiment(sweep_run_dir(out, row[col("id")]) + "/config.yaml");
        CHECK(std::stol(row[col("labels_red")]) == training_label_counts(cfg).at("red"));
    }
    CHECK(finished == 10);
    CHECK(best == 2);  // one per setup
    // The CSV on disk is the same table.
    std::ifstream csv(c.csv_path);
    std::string first;
    std::getline(csv, first);
    CHECK(first + "\n" == csv_line(h));
    const std::string summary = collect_summary(c);
    CHECK(summary.find("10 of 12 runs finished") != std::string::npos);
    CHECK(summary.find("median") != std::string::npos);
    CHECK(summary.find(c.groups[0].best_id) != std::string::npos);
    CHECK(csv_line({"a,b", "say \"x\"", "c"}) == "\"a,b\",\"say \"\"x\"\"\",c\n");
}

TEST_CASE("the Slurm job array runs one shard per task, then collect", "[sweep][slurm]") {
    TempDir t("slurm");
    SweepSpec spec = load_sweep(t.write("s.yaml", R"(base: tiny.yaml
axes:
  - seed: 0..9
slurm: {partition: gpu, gpus: 1, cpus: 4, time: "00:10:00", shards: 4, options: [--mem=2G, --account=lab]}
)"));
    const SlurmPlan plan = write_slurm_scripts(spec, 10, (t.path / "out").string(), "/opt/sca/bin/sca");
    CHECK(plan.shards == 4);
    const std::string a = read_file(plan.array_script), c = read_file(plan.collect_script);
    for (const char* line : {"#SBATCH --array=0-3\n", "#SBATCH --partition=gpu\n", "#SBATCH --gpus-per-task=1\n",
                             "#SBATCH --cpus-per-task=4\n", "#SBATCH --time=00:10:00\n", "#SBATCH --mem=2G\n",
                             "#SBATCH --account=lab\n", "--shard \"${SLURM_ARRAY_TASK_ID}/4\"", "'/opt/sca/bin/sca' sweep"})
        CHECK(a.find(line) != std::string::npos);
    CHECK(c.find("'/opt/sca/bin/sca' collect") != std::string::npos);
    CHECK(c.find("--array") == std::string::npos);
    // More shards than runs: one run per task.
    spec.slurm.shards = 50;
    CHECK(write_slurm_scripts(spec, 10, (t.path / "out").string(), "sca").shards == 10);
}

TEST_CASE("a CPU sweep in SIMD lanes writes and collects what it does with --no-lanes", "[sweep][lanes]") {
    TempDir t("lanes");
    // Ten runs: a lane group of eight and one of two; the learning rates differ per run.
    const std::string file = t.write("s.yaml", "base: tiny.yaml\naxes:\n  - schedule.keyframes.2.lr: [0.05, 0.04]\n  - seed: 0..4\n");
    SweepOptions o = test::quiet_cpu_sweep(file, (t.path / "lanes").string());
    run_sweep(o);
    o.out = (t.path / "alone").string();
    o.lanes = false;
    run_sweep(o);
    const CollectResult lanes = collect_sweep({(t.path / "lanes").string(), "", ""});
    const CollectResult alone = collect_sweep({(t.path / "alone").string(), "", ""});
    REQUIRE(lanes.header == alone.header);
    REQUIRE(lanes.rows.size() == 10);
    const auto time_col = size_t(std::find(lanes.header.begin(), lanes.header.end(), "wall_seconds") - lanes.header.begin());
    for (size_t i = 0; i < lanes.rows.size(); ++i) {
        auto a = lanes.rows[i], b = alone.rows[i];
        a.at(time_col) = b.at(time_col) = "";
        CHECK(a == b);
    }
    // Every file of every run but its done marker (which holds times) is the same, byte for byte.
    size_t compared = 0;
    for (const auto& d : fs::directory_iterator(t.path / "lanes" / sweep_files::kRuns))
        for (const auto& f : fs::recursive_directory_iterator(d.path())) {
            if (!f.is_regular_file() || f.path().filename() == sweep_files::kDone) continue;
            const fs::path other = t.path / "alone" / fs::relative(f.path(), t.path / "lanes");
            INFO(f.path().string());
            REQUIRE(fs::exists(other));
            CHECK(read_file(f.path().string()) == read_file(other.string()));
            ++compared;
        }
    CHECK(compared >= 30);
}
