#include "host/sweep/sweep_search.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <map>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

std::string at(const std::string& source, const YAML::Node& n) {
    return n.IsDefined() && n.Mark().line >= 0 ? source + ":" + std::to_string(n.Mark().line + 1) : source;
}

int int_in(const YAML::Node& v, const std::string& source, const std::string& key, int lo, int hi) {
    try {
        const int x = v.as<int>();
        if (x >= lo && x <= hi) return x;
    } catch (const YAML::Exception&) {
    }
    throw ConfigError(at(source, v), key, fmt::format("expected an integer from {} to {}", lo, hi));
}

double number_in(const YAML::Node& v, const std::string& source, const std::string& key, double lo, double hi) {
    try {
        const double x = v.as<double>();
        if (x >= lo && x <= hi) return x;
    } catch (const YAML::Exception&) {
    }
    throw ConfigError(at(source, v), key, fmt::format("expected a number from {:g} to {:g}", lo, hi));
}

// The sweep times every seed any rung uses, as the last axis.
SweepSpec seeded_sweep(const SearchSpec& s) {
    SweepSpec spec = s.sweep;
    SweepAxis seeds;
    seeds.keys = {"seed"};
    seeds.where = s.source;
    for (int v = s.first_seed; v < s.first_seed + rung_seeds(s, s.rungs - 1); ++v)
        seeds.values.push_back({{"seed=" + std::to_string(v)}, fmt::format("{:03d}", v)});  // as a 0..59 range labels them
    spec.axes.push_back(std::move(seeds));
    return spec;
}

int seed_of(const SweepRun& r) { return std::stoi(r.axis_overrides.back().substr(5)); }

std::string config_of(const SweepRun& r) { return sweep_config_id(fs::path(r.base).stem().string(), r.axis_overrides); }

// Rung r's runs: the surviving configurations (all on rung 0) times the rung's seeds, renumbered.
std::vector<SweepRun> rung_runs(const SearchSpec& s, const SweepSpec& seeded, int rung, const std::set<std::string>* survivors) {
    const int last = s.first_seed + rung_seeds(s, rung);
    auto runs = expand_sweep(seeded, true, [&](const SweepRun& r) {
        return seed_of(r) < last && (!survivors || survivors->count(config_of(r)));
    });
    for (size_t i = 0; i < runs.size(); ++i) runs[i].index = int(i);
    return runs;
}

std::string rung_dir(const std::string& out, int rung) { return (fs::path(out) / fmt::format("rung-{}", rung)).string(); }

// OUT/runs and OUT/rung-r/runs -> ../runs: every rung's runs live in one folder.
void prepare_rung_dir(const std::string& out, int rung) {
    std::error_code ec;
    fs::create_directories(fs::path(out) / sweep_files::kRuns, ec);
    const fs::path dir = rung_dir(out, rung);
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create '" + dir.string() + "': " + ec.message());
    const fs::path link = dir / sweep_files::kRuns;
    if (!fs::is_symlink(link, ec)) {
        fs::create_directory_symlink(fs::path("..") / sweep_files::kRuns, link, ec);
        if (ec && !fs::is_symlink(link)) throw IoError("cannot link '" + link.string() + "' to ../runs: " + ec.message());
    }
}

bool run_settled(const std::string& out, const SweepRun& r) {
    const fs::path d = sweep_run_dir(out, r.id);
    return fs::exists(d / sweep_files::kDone) || fs::exists(d / sweep_files::kFailed);
}

// The survivors of a ranked rung: the top `keep` fraction of each setup's configurations.
std::vector<std::string> survivors_of(const ConfigTable& t, double keep) {
    std::map<std::string, size_t> per_setup;
    for (const auto& c : t.configs) ++per_setup[c.setup];
    std::vector<std::string> out;
    for (const auto& c : t.configs) {
        const size_t n = std::max<size_t>(1, size_t(std::ceil(keep * double(per_setup[c.setup]) - 1e-9)));
        if (size_t(c.rank) <= n) out.push_back(c.id);
    }
    return out;
}

nlohmann::ordered_json config_json(const ConfigTable& t, const ConfigStats& c) {
    nlohmann::ordered_json j;
    j["config"] = c.id;
    nlohmann::ordered_json values;
    for (size_t k = 0; k < t.columns.size(); ++k) values[t.columns[k]] = c.values[k];
    j["values"] = values;
    j["runs"] = c.runs;
    j["failed"] = c.failed;
    j["collapsed"] = c.collapsed;
    for (auto [name, v] : {std::pair{"min", c.min}, {"p10", c.p10}, {"median", c.median}, {"mean", c.mean},
                           {"anchor_error_median", c.anchor_error_median}})
        j[name] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    j["error_ok"] = c.error_ok;
    return j;
}

}  // namespace

void write_search_json(const SearchSpec& s, const std::string& out, const SearchReport& r) {
    nlohmann::ordered_json j;
    j["search"] = fs::absolute(s.source).lexically_normal().string();
    j["statistic"] = s.rules.statistic;
    j["rungs"] = nlohmann::ordered_json::array();
    for (const auto& rr : r.rungs) {
        if (!rr.complete) continue;
        nlohmann::ordered_json e;
        e["rung"] = rr.rung;
        e["seeds"] = rr.seeds;
        e["configs"] = rr.configs;
        e["runs"] = rr.runs;
        e["survivors"] = rr.survivors;
        if (!rr.table.configs.empty()) e["best"] = config_json(rr.table, rr.table.configs.front());
        j["rungs"].push_back(e);
    }
    j["finished"] = r.finished;
    write_file_atomic((fs::path(out) / "search.json").string(), j.dump(1) + "\n");
}

namespace {

// One pass over the rungs; trains where `train(rung)` says so.
SearchReport walk(const SearchSpec& s, const std::string& out, const SearchOptions* o) {
    const SweepSpec seeded = seeded_sweep(s);
    SearchReport report;
    std::set<std::string> survivors;
    for (int r = 0; r < s.rungs; ++r) {
        const auto runs = rung_runs(s, seeded, r, r ? &survivors : nullptr);
        RungReport rr;
        rr.rung = r;
        rr.seeds = rung_seeds(s, r);
        rr.runs = runs.size();
        std::set<std::string> configs;
        for (const auto& run : runs) configs.insert(config_of(run));
        rr.configs = configs.size();
        const std::string dir = rung_dir(out, r);
        const bool train = o && (o->only_rung < 0 || o->only_rung == r);
        if (train) {
            prepare_rung_dir(out, r);
            SweepOptions so = o->sweep;
            so.out = dir;
            if (o->only_rung < 0) so.shard = {0, 1};
            if (so.max_runs >= 0) so.max_runs = std::max<int>(0, so.max_runs - int(report.trained));
            const SweepReport sr = run_planned_sweep(seeded, runs, so);
            rr.trained = sr.trained;
            rr.failed = sr.failures.size();
            report.trained += sr.trained;
        }
        rr.complete = fs::exists(fs::path(dir) / sweep_files::kPlan);
        for (const auto& run : runs) rr.complete = rr.complete && run_settled(out, run);
        if (!rr.complete) {
            if (o && o->only_rung > r)
                throw ConfigError(s.source, "", fmt::format("rung {} is not complete, so rung {} cannot be planned yet (run rung {} first)",
                                                            r, o->only_rung, r));
            report.rungs.push_back(std::move(rr));
            break;
        }
        const CollectResult collected = collect_sweep({dir, "", ""});
        rr.table = group_configs(collected, s.rules);
        write_configs_csv(rr.table, (fs::path(dir) / "configs.csv").string());
        rr.survivors = survivors_of(rr.table, s.keep);
        survivors = std::set<std::string>(rr.survivors.begin(), rr.survivors.end());
        report.rungs.push_back(std::move(rr));
        if (o && o->only_rung == r) break;  // an array task: the next rung is the advance job's
    }
    report.finished = int(report.rungs.size()) == s.rungs && report.rungs.back().complete;
    return report;
}

}  // namespace

int rung_seeds(const SearchSpec& spec, int rung) {
    long long n = spec.seeds;
    for (int r = 0; r < rung; ++r) n *= spec.grow;
    return int(n);
}

SearchSpec parse_search(const std::string& text, const std::string& source) {
    SearchSpec s;
    s.source = source;
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1), "", "invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) throw ConfigError(source, "", "expected a mapping (sweep, seeds, grow, keep, rungs, statistic, error_band, first_seed)");
    bool have_sweep = false;
    for (const auto& kv : root) {
        const std::string k = kv.first.as<std::string>();
        const YAML::Node v = kv.second;
        if (k == "sweep") {
            if (!v.IsScalar()) throw ConfigError(at(source, v), k, "expected the sweep file's name");
            const fs::path p = fs::path(v.Scalar()).is_absolute() ? fs::path(v.Scalar()) : fs::path(source).parent_path() / v.Scalar();
            std::error_code ec;
            if (!fs::is_regular_file(p, ec)) throw ConfigError(at(source, v), k, "no sweep file '" + p.string() + "'");
            s.sweep = load_sweep(p.lexically_normal().string());
            have_sweep = true;
        } else if (k == "seeds") s.seeds = int_in(v, source, k, 1, 100000);
        else if (k == "grow") s.grow = int_in(v, source, k, 2, 100);
        else if (k == "rungs") s.rungs = int_in(v, source, k, 1, 20);
        else if (k == "first_seed") s.first_seed = int_in(v, source, k, 0, 1000000000);
        else if (k == "keep") {
            s.keep = number_in(v, source, k, 0.0, 1.0);
            if (!(s.keep > 0)) throw ConfigError(at(source, v), k, "expected a fraction above 0");
        } else if (k == "statistic") {
            s.rules.statistic = v.IsScalar() ? v.Scalar() : "";
            check_statistic(s.rules.statistic, at(source, v) + ": statistic");
        } else if (k == "error_band") {
            if (!v.IsSequence() || v.size() != 2) throw ConfigError(at(source, v), k, "expected [low, high] (fractions of the bound)");
            s.rules.error_low = number_in(v[0], source, k, 0.0, 100.0);
            s.rules.error_high = number_in(v[1], source, k, s.rules.error_low, 100.0);
        } else
            throw ConfigError(at(source, kv.first), k,
                              "unknown key (expected sweep, seeds, grow, keep, rungs, statistic, error_band or first_seed)");
    }
    if (!have_sweep) throw ConfigError(source, "sweep", "is required (the sweep file whose configurations are raced)");
    for (const auto& a : s.sweep.axes)
        for (const auto& key : a.keys)
            if (key == "seed") throw ConfigError(a.where, "seed", "is swept, but a search draws the seeds itself (remove that axis)");
    if (double(rung_seeds(s, s.rungs - 1)) + s.first_seed > 1e6)
        throw ConfigError(source, "rungs", "the last rung would need more than a million seeds");
    return s;
}

SearchSpec load_search(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ConfigError(path, "", "cannot read the search file");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_search(ss.str(), path);
}

SearchReport run_search(const SearchSpec& spec, const SearchOptions& o) {
    if (o.sweep.out.empty()) throw ConfigError("--out", "", "is required (the search's output folder)");
    if (o.only_rung >= spec.rungs)
        throw ConfigError("--rung", "", fmt::format("the search has rungs 0 to {}, not {}", spec.rungs - 1, o.only_rung));
    const auto t0 = std::chrono::steady_clock::now();
    SearchReport r = walk(spec, o.sweep.out, &o);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.only_rung < 0) write_search_json(spec, o.sweep.out, r);
    return r;
}

SearchReport search_status(const SearchSpec& spec, const std::string& out) { return walk(spec, out, nullptr); }

std::string search_summary(const SearchSpec& spec, const SearchReport& r) {
    std::string s;
    for (const auto& rr : r.rungs) {
        s += fmt::format("rung {}: {} configurations x {} seeds = {} runs ({} trained now){}", rr.rung, rr.configs, rr.seeds, rr.runs,
                         rr.trained, rr.complete ? "" : "; not complete\n");
        if (!rr.complete) break;
        const ConfigStats& b = rr.table.configs.front();
        s += fmt::format("; kept {}; best {} ({} {:.4f}, median {:.4f}, min {:.4f}, anchor error {:.3f})\n", rr.survivors.size(),
                         b.id, spec.rules.statistic, b.statistic, b.median, b.min, b.anchor_error_median);
    }
    if (r.finished) {
        const ConfigTable& t = r.rungs.back().table;
        const ConfigStats& b = t.configs.front();
        s += fmt::format("search finished: best configuration {}{}\n", b.id, b.error_ok ? "" : " (outside the anchor-error band)");
        for (size_t k = 0; k < t.columns.size(); ++k) s += fmt::format("  {}: {}\n", t.columns[k], b.values[k]);
    }
    return s;
}

}  // namespace sca
