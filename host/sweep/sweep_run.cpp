#include "host/sweep/sweep_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/io/atomic_file.hpp"
#include "host/train/cuda_bridge.hpp"
#include "host/io/dir_lock.hpp"
#include "host/config/dataset.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/io/progress.hpp"
#include "host/train/blas.hpp"
#include "host/train/lane_trainer.hpp"
#include "host/train/run.hpp"
#include "host/sweep/sweep_gpu.hpp"
#include "host/io/thread_pool.hpp"

namespace sca {

namespace fs = std::filesystem;

std::string sweep_run_dir(const std::string& out, const std::string& id) {
    return (fs::path(out) / sweep_files::kRuns / id).string();
}

std::map<std::string, long> training_label_counts(const ExperimentConfig& cfg) {
    const ColourSet grid = training_grid(cfg.grid);
    const std::vector<float> p = label_probabilities(cfg.labels, grid);
    const int L = int(cfg.labels.size());
    std::vector<long> counts(L, 0);
    Batch batch;
    for (int t = 0; t <= cfg.last_step() && L > 0; ++t) {
        draw_batch(cfg.seed, t, cfg.batch, grid, p, L, batch);
        for (int l = 0; l < L; ++l)
            for (int i = 0; i < cfg.batch; ++i) counts[l] += batch.labels[size_t(l) * cfg.batch + i] != 0.0f;
    }
    std::map<std::string, long> out;
    for (int l = 0; l < L; ++l) out[cfg.labels[l].name] = counts[l];
    return out;
}

namespace {

// The GPU group check compares label functions; similarity labels also need the same colour.
bool same_label_colours(const ExperimentConfig& a, const ExperimentConfig& b) {
    if (a.labels.size() != b.labels.size()) return false;
    for (size_t l = 0; l < a.labels.size(); ++l)
        if (a.labels[l].source != b.labels[l].source || a.labels[l].colour != b.labels[l].colour) return false;
    return true;
}

}  // namespace

namespace {

// The CPU's work: groups of up to eight runs that can share SIMD lanes (in
// plan order, each joining the first open group it fits), and single runs.
std::vector<std::vector<const SweepRun*>> cpu_work_items(const std::vector<const SweepRun*>& runs, bool lanes) {
    std::vector<std::pair<ExperimentConfig, std::vector<const SweepRun*>>> open;
    std::vector<std::vector<const SweepRun*>> items;
    for (const SweepRun* r : runs) {
        std::optional<ExperimentConfig> cfg;
        if (lanes) try {
                cfg = parse_experiment(r->config_text, r->base);
            } catch (const std::exception&) {  // training it alone reports the error
            }
        if (!cfg || !lane_refusal(*cfg).empty()) {
            items.push_back({r});
            continue;
        }
        bool placed = false;
        for (auto& [head, members] : open)
            if (members.size() < size_t(kLaneGroupSize) && lane_group_incompatibility(head, *cfg).empty()) {
                members.push_back(r);
                placed = true;
                break;
            }
        if (!placed) open.push_back({std::move(*cfg), {r}});
    }
    for (auto& [head, members] : open) items.push_back(std::move(members));
    return items;
}

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string hex(uint64_t h) { return fmt::format("{:016x}", h); }

nlohmann::ordered_json plan_json(const SweepSpec& spec, const std::vector<SweepRun>& runs) {
    nlohmann::ordered_json j;
    j["sweep"] = fs::absolute(spec.source).lexically_normal().string();
    j["columns"] = sweep_columns(spec);
    j["runs"] = nlohmann::ordered_json::array();
    for (const auto& r : runs) {
        nlohmann::ordered_json e;
        e["index"] = r.index;
        e["id"] = r.id;
        e["base"] = r.base;
        e["overrides"] = r.axis_overrides;
        e["config_hash"] = hex(r.config_hash);
        j["runs"].push_back(e);
    }
    return j;
}

// The marker that says a run is finished; its config hash must match the plan's.
struct Marker {
    bool present = false;
    std::string config_hash;
};

Marker read_marker(const std::string& dir) {
    Marker m;
    const fs::path p = fs::path(dir) / sweep_files::kDone;
    if (!fs::exists(p)) return m;
    try {
        const auto j = nlohmann::json::parse(read_file(p.string()));
        m.present = true;
        m.config_hash = j.at("config_hash").get<std::string>();
    } catch (const std::exception& e) {
        // Written atomically, so only a hand-edited marker gets here.
        throw IoError("'" + p.string() + "' is not a sweep marker (" + e.what() + "); delete it to redo the run");
    }
    return m;
}

void write_marker(const std::string& dir, const SweepRun& run, const ExperimentConfig& cfg, const std::string& backend,
                  double train_seconds, double eval_seconds) {
    nlohmann::ordered_json j;
    j["id"] = run.id;
    j["index"] = run.index;
    j["config_hash"] = hex(run.config_hash);
    j["overrides"] = run.axis_overrides;
    j["backend"] = backend;
    j["train_seconds"] = train_seconds;
    j["eval_seconds"] = eval_seconds;
    j["wall_seconds"] = train_seconds + eval_seconds;
    j["label_counts"] = training_label_counts(cfg);
    j["samples"] = long(cfg.last_step() + 1) * cfg.batch;
    j["finished_unix"] = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    std::error_code ec;
    fs::remove(fs::path(dir) / sweep_files::kFailed, ec);
    write_file_atomic((fs::path(dir) / sweep_files::kDone).string(), j.dump(2) + "\n");
}

void write_failure(const std::string& dir, const SweepRun& run, const std::string& why) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    nlohmann::ordered_json j;
    j["id"] = run.id;
    j["index"] = run.index;
    j["config_hash"] = hex(run.config_hash);
    j["error"] = why;
    write_file_atomic((fs::path(dir) / sweep_files::kFailed).string(), j.dump(2) + "\n");
}

double evaluate_into(const std::string& dir, const ExperimentConfig& cfg, bool grids) {
    const auto t0 = Clock::now();
    EvaluationSettings settings = evaluation_settings(cfg, cfg.model.latent);
    settings.grids = settings.grids && grids;
    const Model model = load_model((fs::path(dir) / run_files::kModel).string());
    write_evaluation(dir, evaluate(model, settings), run_files::kModel);
    return since(t0);
}

class SweepProgress {
public:
    SweepProgress(size_t total, size_t skipped, bool quiet)
        : progress_("sweep", long(total), quiet), skipped_(skipped), quiet_(quiet), last_line_(Clock::now()) {}
    void tick(size_t done, size_t failed) {
        std::lock_guard<std::mutex> lock(mutex_);
        // On a terminal the line is redrawn; in a log (Slurm), a line every few seconds.
        const bool line = !progress_.interactive() && (since(last_line_) > 5.0);
        if (line) last_line_ = Clock::now();
        std::string detail = skipped_ ? fmt::format("({} done before)", skipped_) : "";
        if (failed) detail += fmt::format(" {} failed", failed);
        progress_.update(long(done), detail, line);
    }
    void finish(const std::string& detail) {
        if (!quiet_) progress_.finish(detail);
    }

private:
    Progress progress_;
    size_t skipped_;
    bool quiet_;
    std::mutex mutex_;
    Clock::time_point last_line_;
};

// One sweep per output folder: a second `sca sweep` on it (a rerun while the
// first still runs, a shard started twice) is refused before it writes
// anything. The shards of one sweep (Slurm array tasks) share the folder: each
// holds the folder's lock shared and its own shard's lock exclusively.
struct SweepFolderLock {
    DirectoryLock folder;
    std::optional<DirectoryLock> shard;
    SweepFolderLock(const std::string& out, const Shard& s)
        : folder(out, ".sca-sweep.lock", "sweep folder",
                 "another sca sweep is running in '" + out + "'; wait for it or stop it first", s.count > 1) {
        if (s.count > 1)
            shard.emplace(out, fmt::format(".sca-sweep-shard-{}-of-{}.lock", s.index, s.count), "sweep folder",
                          fmt::format("shard {}/{} of this sweep is already running in '{}'; wait for it or stop it first",
                                      s.index, s.count, out));
    }
};

}  // namespace

SweepReport run_sweep(const SweepOptions& o) {
    if (o.out.empty()) throw ConfigError("--out", "", "is required (the sweep's output folder)");
    const SweepSpec spec = load_sweep(o.sweep_file);
    return run_planned_sweep(spec, expand_sweep(spec, true), o);
}

SweepReport run_planned_sweep(const SweepSpec& spec, const std::vector<SweepRun>& runs, const SweepOptions& o) {
    const auto start = Clock::now();
    if (o.out.empty()) throw ConfigError("--out", "", "is required (the sweep's output folder)");
    SweepReport report;
    report.planned = runs.size();

    if (o.jobs < 0 || o.jobs > kMaxJobs)
        throw ConfigError("--jobs", "", fmt::format("must be between 1 and {} (or left out: twice the cores), got {}", kMaxJobs, o.jobs));
    std::error_code ec;
    fs::create_directories(fs::path(o.out) / sweep_files::kRuns, ec);
    if (ec) throw IoError("cannot create '" + o.out + "': " + ec.message());
    const SweepFolderLock sweep_lock(o.out, o.shard);
    // A shard leaves the folder's temporaries alone: another shard may be writing one now.
    if (o.shard.count <= 1) remove_stale_temporaries(o.out, 0);
    std::vector<const SweepRun*> todo;
    for (const auto& r : runs) {
        if (!in_shard(r, o.shard)) continue;
        ++report.selected;
        const std::string dir = sweep_run_dir(o.out, r.id);
        const Marker m = read_marker(dir);
        if (m.present && m.config_hash != hex(r.config_hash))
            throw IoError("'" + dir + "' was finished with another config than the sweep now gives (the sweep file or " +
                          r.base + " changed); write to another --out, or delete that run to redo it");
        if (m.present) ++report.skipped;
        else todo.push_back(&r);
    }
    if (o.max_runs >= 0 && todo.size() > size_t(o.max_runs)) todo.resize(size_t(o.max_runs));

    const std::string why_not_gpu = cuda_compiled() ? cuda_unavailable_reason() : "this build has no CUDA backend";
    if (o.backend == "cuda" && !why_not_gpu.empty()) throw std::runtime_error("--backend cuda was requested, but " + why_not_gpu);
    if (o.backend != "auto" && o.backend != "cpu" && o.backend != "cuda")
        throw ConfigError("--backend", "", "unknown backend '" + o.backend + "' (expected auto, cpu or cuda)");
    // Written once nothing above refused the sweep.
    // Every shard writes the same plan; a plan of another sweep means a wrong --out.
    const std::string plan_path = (fs::path(o.out) / sweep_files::kPlan).string();
    const std::string plan = plan_json(spec, runs).dump(1) + "\n";
    if (fs::exists(plan_path)) {
        const auto old = nlohmann::json::parse(read_file(plan_path), nullptr, false);
        if (!old.is_discarded() && old.contains("sweep") &&
            old["sweep"].get<std::string>() != fs::absolute(spec.source).lexically_normal().string() && !o.quiet)
            std::fprintf(stderr, "note: '%s' was planned from %s; now from %s\n", plan_path.c_str(),
                         old["sweep"].get<std::string>().c_str(), spec.source.c_str());
    }
    if (!fs::exists(plan_path) || read_file(plan_path) != plan) write_file_atomic(plan_path, plan);

    const bool gpu = o.backend != "cpu" && why_not_gpu.empty();
    report.backend = gpu ? "cuda" : "cpu";
    // Twice the cores by default: each run ends in a flush to disk (its commit point), which idles a core.
    const int threads = std::clamp(o.jobs > 0 ? o.jobs : 2 * int(std::thread::hardware_concurrency()), 1, kMaxJobs);
    if (!o.quiet) {
        std::fprintf(stderr, "sweep %s: %zu runs, %zu in shard %d/%d, %zu finished before, %zu to run on %s\n",
                     spec.source.c_str(), report.planned, report.selected, o.shard.index, o.shard.count, report.skipped,
                     todo.size(), gpu ? "the GPU (many models per launch)" : fmt::format("{} CPU threads", threads).c_str());
        if (!gpu && o.backend == "auto" && cuda_compiled()) std::fprintf(stderr, "  CPU because %s\n", why_not_gpu.c_str());
    }

    SweepProgress progress(todo.size(), report.skipped, o.quiet);
    std::atomic<size_t> done{0};
    std::mutex lock;
    // A run that fails is recorded and the sweep goes on; failing to record
    // it (or its done marker) stops the sweep: starting more runs whose
    // outcome cannot be written would only lose them.
    std::atomic<bool> stopping{false};
    std::string fatal;
    auto stop_with = [&](const std::string& why) {
        std::lock_guard<std::mutex> g(lock);
        if (fatal.empty()) fatal = why;
        stopping = true;
    };
    auto fail = [&](const SweepRun& r, const std::string& why) {
        try {
            write_failure(sweep_run_dir(o.out, r.id), r, why);
        } catch (const std::exception& e) {
            stop_with("cannot record that run " + r.id + " failed (" + why + "): " + e.what());
        }
        std::lock_guard<std::mutex> g(lock);
        report.failures.push_back(r.id + ": " + why);
    };

    // On a GPU: groups of compatible runs, each trained in one many-models trainer.
    std::vector<std::vector<const SweepRun*>> groups;
    std::vector<const SweepRun*> gpu_refused;  // configs the CUDA backend cannot train (data from files): the CPU's
    if (gpu) {
        std::vector<std::pair<ExperimentConfig, std::vector<const SweepRun*>>> open;
        for (const SweepRun* r : todo) {
            ExperimentConfig cfg = parse_experiment(r->config_text, r->base);
            if (!cuda_refusal(cfg).empty()) {
                gpu_refused.push_back(r);
                continue;
            }
            bool placed = false;
            for (auto& [head, members] : open)
                if (int(members.size()) < std::max(1, o.gpu_group) && gpu_group_incompatibility(head, cfg).empty() &&
                    same_label_colours(head, cfg)) {
                    members.push_back(r);
                    placed = true;
                    break;
                }
            if (!placed) open.push_back({std::move(cfg), {r}});
        }
        for (auto& [head, members] : open) groups.push_back(std::move(members));
    }

    std::atomic<size_t> next{0};
    // A run's files are flushed once, at its commit point: everything it
    // wrote, then its done marker (the caller holds a DeferredSync over the run).
    auto finish_run = [&](const SweepRun& r, const ExperimentConfig& cfg, const std::string& backend, double train_s) {
        const std::string dir = sweep_run_dir(o.out, r.id);
        const double eval_s = evaluate_into(dir, cfg, spec.evaluation_grids);
        commit_writes();
        try {
            write_marker(dir, r, cfg, backend, train_s, eval_s);
            commit_writes();
        } catch (const std::exception& e) {
            stop_with("cannot mark run " + r.id + " finished: " + e.what());
        }
    };
    std::vector<const SweepRun*> cpu_runs;  // the CPU path's runs (on a GPU: those the fused trainer cannot take)
    if (!gpu) cpu_runs = todo;
    else cpu_runs = gpu_refused;
    // One run on the CPU through run.cpp (a run that cannot join a lane group,
    // or whose lanes stopped at a non-finite step: this path names the cause).
    auto train_alone = [&](const SweepRun& r) {
            try {
                const DeferredSync deferred;
                const ExperimentConfig cfg = parse_experiment(r.config_text, r.base);
                TrainOptions t;
                t.out_dir = sweep_run_dir(o.out, r.id);
                t.quiet = true;
                t.overwrite = true;  // a run without a marker was in flight when a sweep stopped
                t.backend = "cpu";
                t.log_every = spec.train_log_every;
                const RunSummary s = train_run(cfg, t);
                if (!s.finished) throw std::runtime_error("training stopped before the last step");
                finish_run(r, cfg, "cpu", s.seconds);
            } catch (const std::exception& e) {
                fail(r, e.what());
            }
            progress.tick(++done, report.failures.size());
    };
    // Up to eight compatible runs in the lanes of one CPU thread (host/train/lane_trainer.hpp).
    auto train_in_lanes = [&](const std::vector<const SweepRun*>& group) {
        std::vector<ExperimentConfig> configs;
        std::vector<GroupRunResult> results;
        const auto t0 = Clock::now();
        try {
            for (const SweepRun* r : group) configs.push_back(parse_experiment(r->config_text, r->base));
            results = train_lane_group(configs);
        } catch (const std::exception&) {
            for (const SweepRun* r : group) train_alone(*r);  // which reports each run's own error
            return;
        }
        const double per_run = since(t0) / double(group.size());
        for (size_t m = 0; m < group.size() && !stopping; ++m) {
            const SweepRun& r = *group[m];
            if (results[m].state.next_step != configs[m].last_step() + 1) {
                train_alone(r);
                continue;
            }
            try {
                const DeferredSync deferred;
                write_run_outputs(configs[m], sweep_run_dir(o.out, r.id), results[m].log, results[m].validation,
                                  results[m].state, "cpu", spec.train_log_every);
                finish_run(r, configs[m], "cpu", per_run);
            } catch (const std::exception& e) {
                fail(r, e.what());
            }
            progress.tick(++done, report.failures.size());
        }
    };
    std::vector<std::vector<const SweepRun*>> cpu_items;  // filled once the GPU is done with its groups
    auto cpu_worker = [&] {
        for (size_t i = next++; i < cpu_items.size() && !stopping; i = next++) {
            if (cpu_items[i].size() == 1) train_alone(*cpu_items[i].front());
            else train_in_lanes(cpu_items[i]);
        }
    };
    if (gpu) {
        // The GPU trains one group at a time; the CPU threads write and evaluate its runs.
        for (const auto& group : groups) {
            std::vector<ExperimentConfig> configs;
            for (const SweepRun* r : group) configs.push_back(parse_experiment(r->config_text, r->base));
            const auto t0 = Clock::now();
            std::vector<GroupRunResult> results;
            try {
                results = train_group_on_gpu(configs);
            } catch (const std::exception& e) {
                // E.g. a shape beyond the fused kernel's limits: these runs train on the CPU instead.
                if (!o.quiet) std::fprintf(stderr, "\nGPU group of %zu runs not trained on the GPU (%s); using the CPU\n", group.size(), e.what());
                cpu_runs.insert(cpu_runs.end(), group.begin(), group.end());
                continue;
            }
            const double per_run = since(t0) / double(group.size());
            std::atomic<size_t> k{0};
            auto writer = [&] {
                for (size_t m = k++; m < group.size() && !stopping; m = k++) {
                    const SweepRun& r = *group[m];
                    try {
                        const DeferredSync deferred;
                        bool finite = true;
                        // A model that met a non-finite loss or gradient stopped at that step (cuda/multi_model.hpp).
                        for (const auto& s : results[m].log) finite = finite && std::isfinite(s.total) && s.bad_gradient.empty();
                        if (!finite) throw std::runtime_error("the loss is not finite");
                        // run.cpp's own writer, so the formats cannot drift.
                        write_run_outputs(configs[m], sweep_run_dir(o.out, r.id), results[m].log,
                                          results[m].validation, results[m].state, "cuda", spec.train_log_every);
                        finish_run(r, configs[m], "cuda", per_run);
                    } catch (const std::exception& e) {
                        fail(r, e.what());
                    }
                    progress.tick(++done, report.failures.size());
                }
            };
            run_threads(threads, writer);
            if (stopping) break;
        }
    }
    if (!cpu_runs.empty() && !stopping) {
        cpu_items = cpu_work_items(cpu_runs, o.lanes);
        const BlasThreadsForJobs one_blas_thread_per_run(std::min(threads, int(cpu_items.size())));
        run_threads(threads, cpu_worker);
    }
    if (stopping) throw IoError(fatal + "; the sweep stopped (rerun it once the folder is writable: finished runs are kept)");
    report.trained = done - report.failures.size();
    report.seconds = since(start);
    progress.finish(fmt::format("({} trained, {} finished before, {} failed) -> {}", report.trained, report.skipped,
                                report.failures.size(), o.out));
    std::sort(report.failures.begin(), report.failures.end());
    return report;
}

}  // namespace sca
