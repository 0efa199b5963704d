#include "run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "atomic_file.hpp"
#include "cuda_bridge.hpp"
#include "errors.hpp"
#include "progress.hpp"

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

struct RunFiles {
    const ExperimentConfig& cfg;
    std::string dir;
    std::vector<std::string> log_rows;
    nlohmann::ordered_json validation = nlohmann::ordered_json::array();

    std::string path(const char* name) const { return (fs::path(dir) / name).string(); }

    void write_logs() const {
        std::string csv = log_header(cfg) + "\n";
        for (const auto& row : log_rows) csv += row + "\n";
        write_file_atomic(path(run_files::kTrainLog), csv);
        nlohmann::ordered_json j;
        j["interval"] = cfg.validation_interval();
        j["last_step"] = cfg.last_step();
        j["records"] = validation;
        write_file_atomic(path(run_files::kValidation), j.dump(2) + "\n");
    }

    // Logs first, the model next, the resume state last: the state file's
    // step is never ahead of what the other files hold.
    void checkpoint(const TrainState& state, const std::string& backend) const {
        write_logs();
        std::map<std::string, std::string> meta{{"config", to_yaml(cfg.document)},
                                                {"step", std::to_string(state.next_step - 1)},
                                                {"backend", backend}};
        save_safetensors(path(run_files::kModel), model_file(cfg.model, state.params, meta));
        save_train_state(path(run_files::kOptimizer), cfg.model, state, {{"seed", std::to_string(cfg.seed)}});
    }
};

RunSummary execute(const ExperimentConfig& cfg, RunFiles& files, TrainState state, const TrainOptions& options) {
    RunSummary summary;
    summary.dir = files.dir;
    auto backend = make_backend(cfg, options.backend, options.quiet);
    summary.backend = backend->name();
    backend->load_state(state);
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
            if (!std::isfinite(r.total))
                throw std::runtime_error(fmt::format("step {}: the loss is not finite ({}); stopped without saving "
                                                     "this state (the last checkpoint is kept)", r.step, r.total));
            files.log_rows.push_back(log_row(r));
        }
        const bool validated = stop % interval == 0 || stop == T;
        if (validated) {
            ValidationRecord v = backend->validate(stop);
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
    if (summary.finished) progress.finish(fmt::format("backend {} -> {}", backend->name(), files.dir));
    else if (!options.quiet) std::fprintf(stderr, "stopped after step %d; continue with: sca train --resume %s\n", t - 1, files.dir.c_str());
    return summary;
}

bool has_run_outputs(const fs::path& dir) {
    for (const char* f : {run_files::kConfig, run_files::kModel, run_files::kOptimizer, run_files::kTrainLog,
                          run_files::kValidation, "evaluation.json"})
        if (fs::exists(dir / f)) return true;
    return false;
}

}  // namespace

std::unique_ptr<Backend> make_backend(const ExperimentConfig& cfg, const std::string& which_in, bool quiet) {
    const std::string which = which_in.empty() ? cfg.backend : which_in;
    if (which == "cpu") return make_cpu_backend(cfg);
    const std::string why = cuda_compiled() ? cuda_unavailable_reason() : "this build has no CUDA backend";
    if (which == "cuda") {
        if (!why.empty()) throw std::runtime_error("backend cuda was requested, but " + why);
        return make_cuda_backend(cfg);
    }
    if (which != "auto") throw ConfigError("--backend", "", "unknown backend '" + which + "' (expected auto, cpu or cuda)");
    if (why.empty()) {
        if (!quiet) std::fprintf(stderr, "backend auto: using the GPU\n");
        return make_cuda_backend(cfg);
    }
    if (!quiet && cuda_compiled()) std::fprintf(stderr, "backend auto: using the CPU (%s)\n", why.c_str());
    return make_cpu_backend(cfg);
}

RunSummary train_run(const ExperimentConfig& cfg, const TrainOptions& options) {
    const fs::path dir(options.out_dir);
    if (options.out_dir.empty()) throw ConfigError("--out", "", "is required (the run directory to write)");
    if (fs::exists(dir) && !fs::is_directory(dir))
        throw IoError("'" + dir.string() + "' exists and is not a directory");
    if (fs::exists(dir) && has_run_outputs(dir) && !options.overwrite)
        throw IoError("'" + dir.string() + "' already holds a run; continue it with `sca train --resume " +
                      dir.string() + "` or replace it with --overwrite");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create the run directory '" + dir.string() + "': " + ec.message());
    if (options.overwrite) fs::remove(dir / "evaluation.json", ec);
    for (const auto& w : cfg.warnings)
        if (!options.quiet) std::fprintf(stderr, "warning: %s: %s\n", cfg.source.c_str(), w.c_str());
    write_file_atomic((dir / run_files::kConfig).string(), to_yaml(cfg.document));
    RunFiles files{cfg, dir.string(), {}, nlohmann::ordered_json::array()};
    return execute(cfg, files, initial_state(cfg), options);
}

RunSummary resume_run(const std::string& dir_text, const TrainOptions& options) {
    const fs::path dir(dir_text);
    const fs::path state_path = dir / run_files::kOptimizer;
    if (!fs::exists(dir / run_files::kConfig) || !fs::exists(state_path))
        throw IoError("'" + dir.string() + "' is not a resumable run (it needs config.yaml and optimizer.safetensors)");
    const ExperimentConfig cfg = load_experiment((dir / run_files::kConfig).string());
    const TrainState state = load_train_state(state_path.string(), cfg.model);
    RunFiles files{cfg, dir.string(), {}, nlohmann::ordered_json::array()};
    if (fs::exists(dir / run_files::kTrainLog)) {
        std::istringstream in(read_file((dir / run_files::kTrainLog).string()));
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line))
            if (!line.empty() && std::stol(line.substr(0, line.find(','))) < state.next_step) files.log_rows.push_back(line);
    }
    if (fs::exists(dir / run_files::kValidation)) {
        const auto j = nlohmann::ordered_json::parse(read_file((dir / run_files::kValidation).string()));
        for (const auto& rec : j.at("records"))
            if (rec.at("step").get<int>() < state.next_step) files.validation.push_back(rec);
    }
    if (state.next_step > cfg.last_step()) {
        if (!options.quiet) std::fprintf(stderr, "'%s' has already finished (step %d)\n", dir_text.c_str(), cfg.last_step());
        RunSummary s;
        s.dir = dir_text;
        s.finished = true;
        s.first_step = state.next_step;
        s.last_step = state.next_step - 1;
        s.state = state;
        return s;
    }
    return execute(cfg, files, state, options);
}

}  // namespace sca
