#include "host/train/run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "host/io/atomic_file.hpp"
#include "host/train/cuda_bridge.hpp"
#include "host/train/finite.hpp"
#include "host/io/dir_lock.hpp"
#include "host/io/errors.hpp"
#include "host/io/progress.hpp"
#include "host/io/fnv_hash.hpp"
#include "host/train/divergence.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

std::string log_header(const ExperimentConfig& cfg) {
    std::string h = "step,lr";
    for (const auto& r : cfg.regularizers) h += ",w_" + r.name;
    h += ",recon";
    for (const auto& r : cfg.regularizers) h += "," + r.name;
    return h + ",total";
}

std::string log_row(const StepRecord& r) {
    std::string s = fmt::format("{},{}", r.step, r.lr);
    for (float w : r.weights) s += fmt::format(",{}", w);
    s += fmt::format(",{}", r.recon);
    for (float v : r.reg) s += std::isnan(v) ? std::string(",") : fmt::format(",{}", v);
    return s + fmt::format(",{}", r.total);
}

nlohmann::ordered_json validation_json(const ExperimentConfig& cfg, const ValidationRecord& v) {
    nlohmann::ordered_json j;
    j["step"] = v.step;
    j["recon"] = v.recon;
    nlohmann::ordered_json regs = nlohmann::ordered_json::object();
    for (size_t r = 0; r < cfg.regularizers.size(); ++r) regs[cfg.regularizers[r].name] = v.reg[r];
    j["regularizers"] = regs;
    return j;
}

// NaN, +inf or -inf as words (fmt would print "-nan").
std::string value_text(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
    return fmt::format("{}", v);
}

// The first term of a step's record that is not finite, or "" if all are.
// A regularizer skipped at this step (weight 0) has NaN as its placeholder.
std::string bad_term(const ExperimentConfig& cfg, const StepRecord& r, std::string& what) {
    if (!r.bad_state.empty()) {
        what = r.bad_state == "exp_avg"      ? "Adam's first moment (exp_avg) is not finite after this step's update"
               : r.bad_state == "exp_avg_sq" ? "Adam's second moment (exp_avg_sq) is not finite after this step's update "
                                               "(a gradient too large to square in float?)"
                                             : "the parameters are not finite after this step's update (a step too large?)";
        return r.bad_state;
    }
    if (!r.bad_gradient.empty()) {
        what = r.bad_gradient == "recon"   ? "the gradient of the reconstruction loss is not finite"
               : r.bad_gradient == "total" ? "the gradient of the total loss is not finite (each term alone is finite)"
                                           : "the gradient of regularizer '" + r.bad_gradient + "' is not finite";
        return r.bad_gradient;
    }
    if (!std::isfinite(r.recon)) {
        what = "the reconstruction loss is " + value_text(r.recon);
        return "recon";
    }
    for (size_t i = 0; i < r.reg.size() && i < cfg.regularizers.size(); ++i)
        if (r.weights.size() > i && r.weights[i] != 0.0f && !std::isfinite(r.reg[i])) {
            what = fmt::format("regularizer '{}' is {} (weight {})", cfg.regularizers[i].name, value_text(r.reg[i]), r.weights[i]);
            return cfg.regularizers[i].name;
        }
    if (!std::isfinite(r.total)) {
        what = "the total loss is " + value_text(r.total) + " (each term is finite; their weighted sum is not)";
        return "total";
    }
    return "";
}

nlohmann::ordered_json divergence_json(const Divergence& d) {
    return {{"diverged", d.diverged}, {"best_recon", d.best}, {"best_step", d.best_step}, {"last_recon", d.last},
            {"factor", Divergence::kFactor}};
}

struct RunFiles {
    RunFiles(const ExperimentConfig& c, std::string d) : cfg(c), dir(std::move(d)) {}
    const ExperimentConfig& cfg;
    std::string dir;
    std::vector<std::string> log_rows;
    nlohmann::ordered_json validation = nlohmann::ordered_json::array();
    int last_checkpoint = -1;  // the last step a checkpoint holds; -1: none yet
    std::string shown_dir;     // where the checkpoint is, for fault messages (staging for --overwrite)
    std::string final_dir;     // the run directory once this invocation succeeds
    uint64_t config_hash = 0;  // of config.yaml's bytes, recorded in every resume state
    int log_every = 1;         // TrainOptions::log_every
    bool logged(int step) const { return step % log_every == 0 || step == cfg.last_step(); }

    std::string path(const char* name) const { return (fs::path(dir) / name).string(); }

    std::string log_text() const {
        std::string csv = log_header(cfg) + "\n";
        for (const auto& row : log_rows) csv += row + "\n";
        return csv;
    }

    void write_logs() const {
        write_file_atomic(path(run_files::kTrainLog), log_text());
        nlohmann::ordered_json j;
        j["interval"] = cfg.validation_interval();
        j["last_step"] = cfg.last_step();
        j["divergence"] = divergence_json(divergence());
        j["records"] = validation;
        write_file_atomic(path(run_files::kValidation), j.dump(2) + "\n");
    }

    bool discarded = false;    // an --overwrite's new run: a failure discards it and keeps the old run
    Divergence divergence() const {
        std::vector<int> steps;
        std::vector<double> recon;
        for (const auto& r : validation) {
            steps.push_back(r.at("step").get<int>());
            recon.push_back(r.at("recon").get<double>());
        }
        return detect_divergence(steps, recon);
    }

    std::string kept() const {
        if (discarded) return "the old run in " + shown_dir + " is untouched (the new one is discarded)";
        return last_checkpoint >= 0 ? fmt::format("the last good checkpoint (step {}) is kept in {}", last_checkpoint, shown_dir)
                                    : std::string("no checkpoint had been written yet");
    }

    // Logs first, the model next, the resume state last: the state file's
    // step is never ahead of what the other files hold. A state that is not
    // finite is never written over a good one.
    void checkpoint(const TrainState& state, const std::string& backend) {
        const int step = state.next_step - 1;
        if (!all_finite(state.params) || !all_finite(state.exp_avg) || !all_finite(state.exp_avg_sq))
            throw NumericalFault(step, "parameters",
                                 fmt::format("step {}: the parameters or Adam moments are not finite after steps {}..{} "
                                             "(a non-finite gradient or update); stopped without saving this state; {}",
                                             step, last_checkpoint + 1, step, kept()));
        write_logs();
        std::map<std::string, std::string> meta{{"config", to_yaml(cfg.document)},
                                                {"step", std::to_string(step)},
                                                {"backend", backend}};
        std::map<std::string, std::string> resume{{"seed", std::to_string(cfg.seed)},
                                                  {"config_hash", fmt::format("{:016x}", config_hash)},
                                                  {"log_hash", fmt::format("{:016x}", fnv1a64(log_text()))}};
        if (log_every != 1) resume["log_every"] = std::to_string(log_every);
        save_safetensors(path(run_files::kModel), model_file(cfg.model, state.params, meta));
        // A commit point: the logs and model are on disk before the state that vouches for them.
        commit_writes();
        // The state names what it belongs to: a resume refuses an edited
        // config.yaml, another run's state, and logs that do not lead up to it.
        save_train_state(path(run_files::kOptimizer), cfg.model, state, resume);
        last_checkpoint = step;
    }
};

RunSummary execute(const ExperimentConfig& cfg, RunFiles& files, TrainState state, const TrainOptions& options) {
    RunSummary summary;
    summary.dir = files.dir;
    auto backend = make_backend(cfg, options.backend, options.quiet);
    summary.backend = backend->name();
    backend->load_state(state);
    files.last_checkpoint = state.next_step - 1;
    if (files.shown_dir.empty()) files.shown_dir = files.dir;
    if (files.final_dir.empty()) files.final_dir = files.dir;
    const int T = cfg.last_step(), interval = cfg.validation_interval();
    const int end = options.stop_after >= 0 ? std::min(options.stop_after, T) : T;
    int t = state.next_step;
    summary.first_step = t;
    Progress progress("train", T + 1, options.quiet);
    const auto start = std::chrono::steady_clock::now();
    std::vector<StepRecord> records;
    const int chunk = progress.interactive() ? 100 : interval;
    while (t <= end) {
        int stop = std::min(end, ((t + interval - 1) / interval) * interval);
        if (cfg.checkpoint_every > 0)
            stop = std::min(stop, ((t + cfg.checkpoint_every) / cfg.checkpoint_every) * cfg.checkpoint_every - 1);
        stop = std::min(stop, t + chunk - 1);
        records.clear();
        backend->train(t, stop, records);
        for (const auto& r : records) {
            std::string what;
            const std::string term = bad_term(cfg, r, what);
            if (!term.empty())
                throw NumericalFault(r.step, term,
                                     fmt::format("step {}: {} (lr {}); stopped without saving this state; {}", r.step,
                                                 what, r.lr, files.kept()));
            if (files.logged(r.step)) files.log_rows.push_back(log_row(r));
        }
        if (records.size() != size_t(stop - t + 1))
            throw std::runtime_error(fmt::format("backend {} trained {} of the steps {}..{}", backend->name(),
                                                 records.size(), t, stop));
        const bool validated = stop % interval == 0 || stop == T;
        if (validated) {
            ValidationRecord v = backend->validate(stop);
            if (!std::isfinite(v.recon))
                throw NumericalFault(stop, "recon",
                                     fmt::format("step {}: the validation reconstruction loss is {}; stopped without "
                                                 "saving this state; {}", stop, value_text(v.recon), files.kept()));
            files.validation.push_back(validation_json(cfg, v));
            summary.validation.push_back(v);
        }
        t = stop + 1;
        if ((cfg.checkpoint_every > 0 && t % cfg.checkpoint_every == 0) || stop == end)
            files.checkpoint(backend->state(), backend->name());
        progress.update(t, fmt::format("loss {:.5f}", records.back().total), validated);
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    summary.last_step = t - 1;
    summary.finished = t > T;
    summary.state = backend->state();
    if (summary.finished) progress.finish(fmt::format("backend {} -> {}", backend->name(), files.final_dir));
    else if (!options.quiet) std::fprintf(stderr, "stopped after step %d; continue with: sca train --resume '%s'\n", t - 1, files.final_dir.c_str());
    summary.divergence = files.divergence();
    if (summary.finished && summary.divergence.diverged && !options.quiet)
        std::fprintf(stderr,
                     "warning: the run diverged: validation recon %.6g at the end, %.0fx its best (%.6g at step %d); "
                     "lower the learning rate (validation.json: divergence)\n",
                     summary.divergence.last, summary.divergence.last / summary.divergence.best, summary.divergence.best,
                     summary.divergence.best_step);
    return summary;
}

// --overwrite builds the new run beside DIR, in PARENT/.sca-staging/, and
// swaps the two directories in one renameat2(RENAME_EXCHANGE): at every
// moment DIR is either the whole old run or the whole new one, and everything
// of the old run (its evaluation, report.html, report/, pruned/) leaves with
// it. (A folder of its own keeps the search for stale stagings short in a
// sweep's runs/ with a million entries.)
constexpr const char* kStagingFolder = ".sca-staging";
constexpr const char* kStagingMarker = ".sca-overwrite.";
constexpr const char* kRetiredMarker = ".sca-old.";

struct Placement {
    fs::path parent;
    std::string name;
};
Placement placement(const fs::path& dir) {
    std::error_code ec;
    const fs::path d = fs::absolute(dir, ec).lexically_normal();
    if (d.has_filename()) return {d.parent_path(), d.filename().string()};
    return {d.parent_path().parent_path(), d.parent_path().filename().string()};
}

fs::path sibling(const fs::path& dir, const char* marker) {
    const Placement p = placement(dir);
    const fs::path folder = p.parent / kStagingFolder;
    std::error_code ec;
    for (int attempt = 0;; ++attempt) {
        fs::create_directories(folder, ec);
        const fs::path s = folder / (p.name + marker + fmt::format("{:08x}", uint32_t(std::random_device{}())));
        if (fs::create_directory(s, ec)) return s;
        if (attempt >= 16)
            throw IoError("cannot create a staging directory beside '" + dir.string() + "' in '" + folder.string() + "': " +
                          (ec ? ec.message() : std::string("name taken")));
    }
}

// Staging and retired directories that a killed --overwrite left for DIR
// (and the DIR/.overwrite of earlier versions). Called with DIR locked.
void remove_stale_stagings(const fs::path& dir) {
    const Placement p = placement(dir);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(p.parent / kStagingFolder, ec)) {
        const std::string n = e.path().filename().string();
        for (const char* marker : {kStagingMarker, kRetiredMarker})
            if (n.rfind(p.name + marker, 0) == 0) fs::remove_all(e.path(), ec);
    }
    fs::remove_all(dir / run_files::kStaging, ec);
}

void swap_in(const fs::path& staging, const fs::path& dir) {
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
        std::error_code ec;
        fs::remove_all(staging, ec);  // the old run now; a kill here leaves it for the next start to remove
        sync_directory(fs::absolute(dir).parent_path().string());
        return;
    }
    if (errno != EINVAL && errno != ENOSYS)
        throw IoError(fmt::format("cannot swap the new run into '{}': {} (the old run is untouched)", dir.string(),
                                  std::strerror(errno)));
    // A file system without RENAME_EXCHANGE: two renames; only a kill between
    // them leaves DIR absent (the old run is then in .sca-staging/<name>.sca-old.*).
    const fs::path retired = sibling(dir, kRetiredMarker);
    std::error_code ec;
    fs::remove(retired, ec);
    if (::rename(dir.c_str(), retired.c_str()) != 0)
        throw IoError(fmt::format("cannot move the old run '{}' aside: {}", dir.string(), std::strerror(errno)));
    if (::rename(staging.c_str(), dir.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::rename(retired.c_str(), dir.c_str());
        throw IoError(fmt::format("cannot move the new run into '{}': {} (the old run is back)", dir.string(), why));
    }
    fs::remove_all(retired, ec);
    sync_directory(fs::absolute(dir).parent_path().string());
}

bool has_run_outputs(const fs::path& dir) {
    for (const char* f : {run_files::kConfig, run_files::kModel, run_files::kOptimizer, run_files::kTrainLog,
                          run_files::kValidation, "evaluation.json"})
        if (fs::exists(dir / f)) return true;
    return false;
}

// The training log's rows for steps 0..next_step-1, checked against the
// state: the log must exist, reach the state's step and hash to what the
// state recorded. Rows past it are what a kill between the checkpoint's
// writes leaves (the logs are written first); they must continue step by
// step and are dropped (the resume trains those steps again, identically).
// A log of every k-th step (TrainOptions::log_every) holds steps 0, k, 2k, ... and T.
std::vector<std::string> logged_rows(const fs::path& dir, const ExperimentConfig& cfg, int next_step,
                                     const std::string& log_hash, int log_every) {
    const std::string log_path = (dir / run_files::kTrainLog).string();
    const std::string state = (dir / run_files::kOptimizer).string();
    if (!fs::exists(log_path))
        throw IoError(fmt::format("{} is missing, but {} is at step {}; the run cannot be resumed from it", log_path, state, next_step));
    std::istringstream in(read_file(log_path));
    std::vector<std::string> rows;
    std::string line, header;
    std::getline(in, header);
    long expected = 0, last = -1;
    const long T = cfg.last_step();
    auto after = [&](long s) { return s >= T ? T + 1 : std::min(T, (s / log_every + 1) * log_every); };
    for (int line_no = 2; std::getline(in, line); ++line_no) {
        if (line.empty()) continue;
        long step = -1;
        const auto comma = line.find(',');
        const auto [p, ec] = std::from_chars(line.data(), line.data() + std::min(comma, line.size()), step);
        if (ec != std::errc() || comma == std::string::npos)
            throw IoError(fmt::format("{}:{}: not a training log row (starts '{}')", log_path, line_no, line.substr(0, 40)));
        if (step != expected)
            throw IoError(fmt::format("{}:{}: step {} where step {} was expected (rows missing, repeated or added)", log_path,
                                      line_no, step, expected));
        expected = after(step);
        last = step;
        if (step < next_step) rows.push_back(line);
    }
    if (expected < next_step)
        throw IoError(fmt::format("{} ends at step {}, but {} is at step {} (the log is truncated)", log_path,
                                  last, state, next_step));
    std::string prefix = header + "\n";
    for (const auto& r : rows) prefix += r + "\n";
    if (fmt::format("{:016x}", fnv1a64(prefix)) != log_hash)
        throw IoError(fmt::format("{} does not match {} (its first {} rows were edited, or come from another run)", log_path,
                                  state, next_step));
    return rows;
}

}  // namespace

std::unique_ptr<Backend> make_backend(const ExperimentConfig& cfg, const std::string& which_in, bool quiet) {
    const std::string which = which_in.empty() ? cfg.backend : which_in;
    if (which == "cpu") return make_cpu_backend(cfg);
    if (which != "auto" && which != "cuda")
        throw ConfigError("--backend", "", "unknown backend '" + which + "' (expected auto, cpu or cuda)");
    const std::string refusal = cuda_refusal(cfg);
    if (which == "cuda" && !refusal.empty())
        throw ConfigError(cfg.source, "backend", "cuda cannot train this config: " + refusal + " (use backend: cpu or auto)");
    const std::string why = !refusal.empty() ? refusal : cuda_compiled() ? cuda_unavailable_reason() : "this build has no CUDA backend";
    if (which == "cuda") {
        if (!why.empty()) throw std::runtime_error("backend cuda was requested, but " + why);
        return make_cuda_backend(cfg);
    }
    if (why.empty()) {
        if (!quiet) std::fprintf(stderr, "backend auto: using the GPU\n");
        return make_cuda_backend(cfg);
    }
    if (!quiet && cuda_compiled()) std::fprintf(stderr, "backend auto: using the CPU (%s)\n", why.c_str());
    return make_cpu_backend(cfg);
}

void write_run_outputs(const ExperimentConfig& cfg, const std::string& dir, const std::vector<StepRecord>& log,
                       const std::vector<ValidationRecord>& validation, const TrainState& state,
                       const std::string& backend, int log_every) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create the run directory '" + dir + "': " + ec.message());
    const std::string config_text = to_yaml(cfg.document);
    write_file_atomic((fs::path(dir) / run_files::kConfig).string(), config_text);
    RunFiles files(cfg, dir);
    files.config_hash = fnv1a64(config_text);
    files.log_every = std::max(1, log_every);
    for (const auto& r : log)
        if (files.logged(r.step)) files.log_rows.push_back(log_row(r));
    for (const auto& v : validation) files.validation.push_back(validation_json(cfg, v));
    files.shown_dir = dir;
    files.checkpoint(state, backend);
}

namespace {

// One trainer per run directory: a second `sca train` (a requeued Slurm job,
// a script that lost track of a process) would interleave checkpoints and
// delete the other's temporary files.
class RunDirLock : public DirectoryLock {
public:
    explicit RunDirLock(const fs::path& dir)
        : DirectoryLock(dir, ".sca.lock", "run directory",
                        "another sca process is training in '" + dir.string() + "'; wait for it or stop it first") {}
};

}  // namespace

RunSummary train_run(const ExperimentConfig& cfg, const TrainOptions& options) {
    const fs::path dir(options.out_dir);
    if (options.out_dir.empty()) throw ConfigError("--out", "", "is required (the run directory to write)");
    if (fs::is_symlink(dir) && !fs::exists(dir))
        throw IoError("'" + dir.string() + "' is a dangling symbolic link (to '" + fs::read_symlink(dir).string() +
                      "', which does not exist); remove it or choose another --out");
    if (fs::exists(dir) && !fs::is_directory(dir))
        throw IoError("'" + dir.string() + "' exists and is not a directory");
    const bool replacing = fs::exists(dir) && has_run_outputs(dir);
    if (replacing && !options.overwrite)
        throw IoError("'" + dir.string() + "' already holds a run; continue it with `sca train --resume '" +
                      dir.string() + "'` or replace it with --overwrite");
    std::error_code ec;
    const bool created = !fs::exists(dir);
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create the run directory '" + dir.string() + "': " + ec.message());
    const RunDirLock lock(dir);
    const DeferredSync deferred;  // flushed at each checkpoint's commit point and at the end
    // A file-size limit (ulimit -f) should end in a message, not SIGXFSZ.
    std::signal(SIGXFSZ, SIG_IGN);
    remove_stale_temporaries(dir.string());
    // A run directory reached through a symlink is swapped where it really is
    // (exchanging the link itself would leave the old run behind it).
    const fs::path real_dir = fs::canonical(dir);
    remove_stale_stagings(real_dir);
    fs::path write_dir = dir;
    std::optional<RunDirLock> staging_lock;  // the new run's lock file becomes DIR's when swapped in
    if (replacing) {
        write_dir = sibling(real_dir, kStagingMarker);
        staging_lock.emplace(write_dir);
    }
    for (const auto& w : cfg.warnings)
        if (!options.quiet) std::fprintf(stderr, "warning: %s: %s\n", cfg.source.c_str(), w.c_str());
    RunFiles files(cfg, write_dir.string());
    files.log_every = std::max(1, options.log_every);
    files.shown_dir = dir.string();
    files.final_dir = dir.string();
    files.discarded = replacing;
    try {
        const std::string config_text = to_yaml(cfg.document);
        try {
            write_file_atomic((write_dir / run_files::kConfig).string(), config_text);
        } catch (const IoError& e) {
            throw IoError("cannot write in the run directory '" + dir.string() + "': " + e.what());
        }
        files.config_hash = fnv1a64(config_text);
        RunSummary summary = execute(cfg, files, initial_state(cfg), options);
        if (summary.finished && options.on_finished) options.on_finished(write_dir.string());
        if (replacing) swap_in(write_dir, real_dir);
        commit_writes();
        summary.dir = dir.string();
        return summary;
    } catch (...) {
        // A failed overwrite leaves the old run alone; a new run that failed
        // before its first checkpoint leaves no directory to block a retry.
        if (replacing) fs::remove_all(write_dir, ec);
        else if (created && files.last_checkpoint < 0) fs::remove_all(dir, ec);
        throw;
    }
}

RunSummary resume_run(const std::string& dir_text, const TrainOptions& options) {
    const fs::path dir(dir_text);
    const fs::path state_path = dir / run_files::kOptimizer;
    if (!fs::exists(dir / run_files::kConfig))
        throw IoError("'" + dir.string() + "' is not a resumable run (it has no config.yaml)");
    std::signal(SIGXFSZ, SIG_IGN);
    const RunDirLock lock(dir);
    const DeferredSync deferred;
    remove_stale_temporaries(dir.string());
    const std::string config_path = (dir / run_files::kConfig).string();
    const std::string config_text = read_file(config_path);
    const ExperimentConfig cfg = parse_experiment(config_text, config_path);
    // Killed before its first checkpoint: start again from the seed's initial
    // state, which is what the first invocation started from.
    const bool fresh = !fs::exists(state_path);
    std::map<std::string, std::string> meta;
    const TrainState state = fresh ? initial_state(cfg) : load_train_state(state_path.string(), cfg.model, &meta);
    if (!all_finite(state.params) || !all_finite(state.exp_avg) || !all_finite(state.exp_avg_sq))
        throw NumericalFault(state.next_step, "parameters",
                             state_path.string() + " holds non-finite parameters or Adam moments; it cannot be resumed");
    if (fresh && !options.quiet) std::fprintf(stderr, "'%s' has no checkpoint yet: training from step 0\n", dir_text.c_str());
    RunFiles files(cfg, dir.string());
    files.config_hash = fnv1a64(config_text);
    files.log_every = std::max(1, options.log_every);
    if (!fresh) {
        const std::string recorded = meta.count("config_hash") ? meta["config_hash"] : "";
        if (recorded.empty())
            throw IoError(state_path.string() + " records no config hash (not written by this sca for this run); "
                          "cannot resume from it; start the run again with --overwrite");
        if (recorded != fmt::format("{:016x}", files.config_hash))
            throw IoError(config_path + " differs from the config " + state_path.string() +
                          " was trained with (edited since the run started, or the state is another run's); "
                          "restore it, or start again with --overwrite");
        if (meta.count("log_every")) {
            const auto& k = meta["log_every"];
            const auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), files.log_every);
            if (ec != std::errc() || p != k.data() + k.size() || files.log_every < 1)
                throw IoError(state_path.string() + ": log_every '" + k + "' is not a positive whole number");
        }
        files.log_rows = logged_rows(dir, cfg, state.next_step, meta["log_hash"], files.log_every);
    }
    if (!fresh && fs::exists(dir / run_files::kValidation)) {
        const std::string path = (dir / run_files::kValidation).string();
        try {
            const auto j = nlohmann::ordered_json::parse(read_file(path));
            for (const auto& rec : j.at("records"))
                if (rec.at("step").get<int>() < state.next_step) files.validation.push_back(rec);
        } catch (const nlohmann::json::exception& e) {
            throw IoError(path + ": not a validation log (" + e.what() + ")");
        }
    }
    if (state.next_step > cfg.last_step()) {
        if (!options.quiet) std::fprintf(stderr, "'%s' has already finished (step %d)\n", dir_text.c_str(), cfg.last_step());
        RunSummary s;
        s.dir = dir_text;
        s.finished = true;
        s.first_step = state.next_step;
        s.last_step = state.next_step - 1;
        s.state = state;
        if (options.on_finished) options.on_finished(dir.string());
        return s;
    }
    RunSummary summary = execute(cfg, files, state, options);
    if (summary.finished && options.on_finished) options.on_finished(dir.string());
    commit_writes();
    return summary;
}

}  // namespace sca
