// sca report RUN_DIR | SWEEP_DIR: figures and one self-contained report.html.
// This side finds the runs, resolves each run's schedule (keyframe steps and
// keyed values, docs/method.md §5) and selects among the runs (docs/method.md §8) with the same code
// as training and `sca select`; it writes those facts to DIR/report/manifest.json
// and hands over to tools/report.py (numpy + matplotlib), which draws.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/wait.h>
#include <unistd.h>

#include "host/io/atomic_file.hpp"
#include "host/cli/cli.hpp"
#include "host/config/config.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"
#include "host/eval/selection.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReportDir = "report";  // figures and manifest, beside report.html

bool is_run_dir(const fs::path& d) { return fs::is_regular_file(d / run_files::kConfig); }

// Run directories below `root`, in sorted order; hidden directories (a
// staging .overwrite) and report folders are not runs.
std::vector<fs::path> find_runs(const fs::path& root, int max_depth) {
    std::vector<fs::path> runs;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw IoError("cannot read '" + root.string() + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) throw IoError("cannot read below '" + root.string() + "': " + ec.message());
        if (!it->is_directory()) continue;
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.' || name == kReportDir) {
            it.disable_recursion_pending();
        } else if (is_run_dir(it->path())) {
            runs.push_back(it->path());
            it.disable_recursion_pending();  // a run's own subfolders (evaluation/) are not runs
        } else if (it.depth() + 1 >= max_depth) {
            it.disable_recursion_pending();
        }
    }
    std::sort(runs.begin(), runs.end());
    return runs;
}

// A sweep folder's planned runs (its sweep.json), which may live behind a
// link (a search rung's runs -> ../runs) that the directory walk does not follow.
std::vector<fs::path> planned_runs(const fs::path& root) {
    std::vector<fs::path> runs;
    try {
        const auto plan = nlohmann::json::parse(read_file((root / "sweep.json").string()));
        for (const auto& r : plan.at("runs")) {
            const fs::path dir = root / "runs" / r.at("id").get<std::string>();
            if (is_run_dir(dir)) runs.push_back(dir);
        }
    } catch (const nlohmann::json::exception& e) {
        throw IoError("'" + (root / "sweep.json").string() + "' is not a sweep plan: " + e.what());
    }
    return runs;
}

nlohmann::json schedule_json(const Schedule& s) {
    nlohmann::json tracks = nlohmann::json::object();
    for (const auto& t : s.tracks) {
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& [step, value] : t.keys) keys.push_back({step, value});
        tracks[t.name] = {{"keys", keys}, {"space", to_string(t.settings.space)}, {"interp", to_string(t.settings.interp)}};
    }
    std::vector<int> steps = s.row_steps;
    std::sort(steps.begin(), steps.end());
    return {{"last_step", s.last_step}, {"keyframe_steps", steps}, {"tracks", tracks}};
}

// What the script needs to know about one run that only the C++ side knows.
nlohmann::json run_entry(const fs::path& dir, const fs::path& root) {
    nlohmann::json e;
    e["dir"] = fs::absolute(dir).lexically_normal().string();
    const fs::path rel = dir.lexically_relative(root);
    e["name"] = rel.empty() || rel == "." ? dir.filename().string() : rel.string();
    e["evaluated"] = fs::is_regular_file(dir / kEvaluationFile);
    try {
        e["schedule"] = schedule_json(load_experiment((dir / run_files::kConfig).string()).schedule);
    } catch (const std::exception& ex) {
        e["schedule_error"] = ex.what();  // the figures go on without keyframe marks
    }
    return e;
}

// One CSV line's cells (RFC 4180 quotes; no newlines inside cells).
std::vector<std::string> csv_cells(const std::string& line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            cells.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            cells.emplace_back();
        } else if (c != '\r') {
            cells.back() += c;
        }
    }
    return cells;
}

// `sca collect`'s table (DIR/results.csv) names each run's setup in its
// `base` column, keyed by the run's id (its directory's name); empty without one.
std::map<std::string, std::string> setups_from_collect_csv(const fs::path& csv) {
    std::map<std::string, std::string> setup_of;
    std::ifstream in(csv);
    std::string line;
    if (!in || !std::getline(in, line)) return setup_of;
    const auto header = csv_cells(line);
    const auto id = std::find(header.begin(), header.end(), "id"), base = std::find(header.begin(), header.end(), "base");
    if (id == header.end() || base == header.end()) return setup_of;
    const size_t i = size_t(id - header.begin()), b = size_t(base - header.begin());
    while (std::getline(in, line)) {
        const auto cells = csv_cells(line);
        if (cells.size() > std::max(i, b)) setup_of[cells[i]] = cells[b];
    }
    return setup_of;
}

// A sweep's swept keys (DIR/sweep.json's columns): runs differing in them are
// one experiment's, by design. Empty for a folder that is not a sweep.
std::vector<std::string> swept_keys(const fs::path& root) {
    std::vector<std::string> keys;
    try {
        const auto j = nlohmann::json::parse(read_file((root / "sweep.json").string()));
        for (const auto& c : j.at("columns")) keys.push_back(c.get<std::string>());
    } catch (const std::exception&) {
    }  // no sweep.json (or not one): every key counts
    return keys;
}

// Pareto front and best run (docs/method.md §8), as `sca select` has them, within each
// setup: the collect table's `base` where there is one, else runs with the
// same objectives (the same regularizers and scored intervention).
void add_selection(nlohmann::json& manifest, const std::string& score_by, const std::map<std::string, std::string>& setup_of,
                   const std::vector<std::string>& swept_keys) {
    auto& runs = manifest["runs"];
    std::map<std::string, std::vector<size_t>> members;  // group -> indices into runs
    std::vector<std::string> order;
    std::map<size_t, RunScores> scores;
    for (size_t i = 0; i < runs.size(); ++i) {
        if (!runs[i]["evaluated"].get<bool>()) continue;
        try {
            RunScores s = read_run_scores(runs[i]["dir"].get<std::string>(), score_by);
            runs[i]["objectives"] = {{"names", s.objective_names}, {"minimise", s.minimise}, {"score", s.score}};
            std::string group;
            if (auto it = setup_of.find(fs::path(runs[i]["dir"].get<std::string>()).filename().string()); it != setup_of.end()) {
                group = it->second;
            } else {
                for (const auto& n : s.objective_names) group += (group.empty() ? "" : " ") + n;
            }
            runs[i]["group"] = group;
            if (!members.count(group)) order.push_back(group);
            members[group].push_back(i);
            scores.emplace(i, std::move(s));
        } catch (const std::exception& ex) {
            runs[i]["selection_error"] = ex.what();
        }
    }
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& name : order) {
        const auto& idx = members[name];
        std::vector<RunScores> list;
        for (size_t i : idx) list.push_back(scores.at(i));
        nlohmann::json g = {{"name", name}, {"runs", idx}, {"objective_names", list.front().objective_names}};
        std::vector<std::string> dirs;
        for (size_t i : idx) dirs.push_back(runs[i]["dir"].get<std::string>());
        try {
            if (const auto differing = config_differences(dirs, swept_keys); !differing.empty()) {
                g["warning"] = pooling_warning(differing, dirs.size());
                std::fprintf(stderr, "warning: %s: %s\n", name.c_str(), g["warning"].get<std::string>().c_str());
            }
        } catch (const std::exception& ex) {
            g["warning"] = ex.what();
        }
        try {
            const Selection sel = select_runs(list);
            for (size_t f : sel.front) runs[idx[f]]["front"] = true;
            runs[idx[sel.best]]["best"] = true;
            g["best"] = idx[sel.best];
            g["front_size"] = sel.front.size();
        } catch (const std::exception& ex) {
            g["error"] = ex.what();
        }
        groups.push_back(g);
    }
    manifest["groups"] = groups;
}

// The figures need the NPY grids, which sweeps usually skip: evaluate the
// run's model again, with grids, into a folder of the report (the run's own
// files stay as they are).
void ensure_grids(nlohmann::json& run, const fs::path& into) {
    const fs::path dir = run["dir"].get<std::string>();
    try {
        const auto j = nlohmann::json::parse(read_file((dir / kEvaluationFile).string()));
        if (j.contains("grids")) return;
    } catch (const std::exception&) {
        return;  // unreadable: the script reports it
    }
    const ExperimentConfig cfg = load_experiment((dir / run_files::kConfig).string());
    const Model model = load_model((dir / run_files::kModel).string());
    EvaluationSettings settings = evaluation_settings(cfg, model.shape.latent);
    settings.grids = true;
    write_evaluation(into.string(), evaluate(model, settings), (dir / run_files::kModel).string());
    run["grid_dir"] = fs::absolute(into).lexically_normal().string();
}

fs::path executable_dir() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self.parent_path();
}

// --script, else $SCA_REPORT_SCRIPT (report.py only), else beside a build or install tree, else this source tree's.
std::string find_script(const std::string& given, const std::string& name) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("SCA_REPORT_SCRIPT"); env && *env && name == "report.py") return env;
    std::vector<fs::path> candidates;
    if (const fs::path exe = executable_dir(); !exe.empty()) {
        candidates.push_back(exe / ".." / "tools" / name);
        candidates.push_back(exe / ".." / "share" / "sca" / name);
    }
    candidates.push_back(fs::path(__FILE__).parent_path() / ".." / ".." / "tools" / name);
    for (const auto& c : candidates)
        if (fs::is_regular_file(c)) return c.lexically_normal().string();
    throw IoError("cannot find tools/" + name + " (looked beside the sca binary and in the source tree); pass --script PATH" +
                  (name == "report.py" ? " or set SCA_REPORT_SCRIPT" : ""));
}

// Debian's numpy and matplotlib belong to /usr/bin/python3, which a
// virtualenv or pyenv python3 earlier on PATH may not see.
std::string find_python(const std::string& given) {
    if (!given.empty()) return given;
    if (const char* env = std::getenv("SCA_PYTHON"); env && *env) return env;
    if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
    return "python3";
}

int run_script(const std::vector<std::string>& argv) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) throw IoError("cannot start the report script: fork failed");
    if (pid == 0) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "error: cannot run '%s': %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw IoError("waiting for the report script failed");
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

int draw(const nlohmann::json& manifest, const fs::path& manifest_path, const DrawingScript& script) {
    write_file_atomic(manifest_path.string(), manifest.dump(2) + "\n");
    std::vector<std::string> argv = {find_python(script.python), find_script(script.given, script.name), "--manifest",
                                     manifest_path.string()};
    if (script.quiet) argv.push_back("--quiet");
    const int rc = run_script(argv);
    // The script prints its own one-line error; a crash or a missing interpreter gets one here.
    if (rc >= 128) std::fprintf(stderr, "error: the %s script (%s) ended with status %d\n", script.name.c_str(), argv[1].c_str(), rc);
    return rc == 0 ? 0 : 1;
}

nlohmann::json report_manifest(const fs::path& target, int depth, const std::string& score_by, const fs::path& grid_root) {
    if (!fs::is_directory(target)) throw IoError("'" + target.string() + "' is not a directory (expected a run or sweep directory)");
    nlohmann::json manifest;
    manifest["target"] = fs::absolute(target).lexically_normal().string();
    manifest["runs"] = nlohmann::json::array();
    if (is_run_dir(target)) {
        manifest["kind"] = "run";
        manifest["runs"].push_back(run_entry(target, target.parent_path()));
        if (!manifest["runs"][0]["evaluated"].get<bool>())
            throw IoError("'" + target.string() + "' has no " + kEvaluationFile + " (run `sca eval " + target.string() + "` first)");
    } else {
        manifest["kind"] = "sweep";
        const auto runs = fs::is_regular_file(target / "sweep.json") ? planned_runs(target) : find_runs(target, depth);
        if (runs.empty()) throw IoError("'" + target.string() + "' holds no run directories (none below it has a config.yaml)");
        for (const auto& r : runs) manifest["runs"].push_back(run_entry(r, target));
    }
    add_selection(manifest, score_by, setups_from_collect_csv(target / "results.csv"), swept_keys(target));
    manifest["score_by"] = score_by;
    if (fs::is_regular_file(target / "results.csv"))
        manifest["collect_csv"] = fs::absolute(target / "results.csv").lexically_normal().string();
    if (fs::is_regular_file(target / "configs.csv"))  // sca collect's per-configuration table
        manifest["configs_csv"] = fs::absolute(target / "configs.csv").lexically_normal().string();
    std::error_code ec;
    fs::create_directories(grid_root, ec);
    if (ec) throw IoError("cannot create '" + grid_root.string() + "': " + ec.message());
    remove_stale_temporaries(target.string(), 0);
    remove_stale_temporaries(grid_root.string(), 1);
    if (manifest["kind"] == "run") {
        ensure_grids(manifest["runs"][0], grid_root / "grids");
    } else {
        for (const auto& g : manifest["groups"])
            if (g.contains("best")) {
                auto& best = manifest["runs"][g["best"].get<size_t>()];
                ensure_grids(best, grid_root / ("grids-" + fs::path(best["dir"].get<std::string>()).filename().string()));
            }
    }
    return manifest;
}

void add_report_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("report", "figures and a self-contained report.html for a run directory or a directory of runs");
    struct Args {
        std::string target, score_by, script, python;
        std::vector<std::string> pairs;
        std::string heatmap;
        int depth = 4;
        bool quiet = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("target", args->target, "a run directory (with config.yaml), or a directory of run directories (a sweep)")->required();
    cmd->add_option("--score", args->score_by, "the intervention whose score ranks a sweep's runs (default: the evaluation's select_by)");
    cmd->add_option("--dims", args->pairs, "latent dims to project onto, e.g. 0,1 (repeatable; default: the anchor's dim against the two widest others)")
        ->allow_extra_args(false);
    cmd->add_option("--heatmap", args->heatmap, "two swept keys KEY1,KEY2 for the per-configuration heatmap (default: the first two of configs.csv)");
    cmd->add_option("--depth", args->depth, "how deep below a sweep directory to look for runs")->check(CLI::Range(1, 64));
    cmd->add_option("--script", args->script, "the report script (default: tools/report.py beside the build tree)");
    cmd->add_option("--python", args->python, "the Python with numpy and matplotlib (default: /usr/bin/python3)");
    cmd->add_flag("--quiet,-q", args->quiet, "print nothing but errors");
    cmd->callback([&action, args] {
        action = [args]() -> int {
            const fs::path target(args->target);
            const fs::path report_dir = target / kReportDir;
            nlohmann::json manifest = report_manifest(target, args->depth, args->score_by, report_dir);
            manifest["dims"] = args->pairs;
            manifest["heatmap"] = args->heatmap;
            return draw(manifest, report_dir / "manifest.json", {args->script, "report.py", args->python, args->quiet});
        };
    });
}

}  // namespace sca
