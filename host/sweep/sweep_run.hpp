// Running a sweep locally: every run of the sweep (or of one shard) trained,
// evaluated and marked finished. On the CPU, runs go to a pool of threads; on
// a GPU, runs of one shape train together through the many-models trainer.
//
//   OUT/sweep.json              the plan: every run's index, id, overrides and config hash
//   OUT/runs/<id>/              a run directory (config.yaml, model, logs, evaluation.json)
//   OUT/runs/<id>/sweep_done.json  written last and atomically: the run is finished
//
// A run with its marker is never redone; a killed sweep loses at most the runs
// in flight (they have no marker and start afresh on the next invocation).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "host/sweep/sweep.hpp"

namespace sca {

namespace sweep_files {
inline constexpr const char* kPlan = "sweep.json";
inline constexpr const char* kRuns = "runs";
inline constexpr const char* kDone = "sweep_done.json";
inline constexpr const char* kFailed = "sweep_failed.json";
}  // namespace sweep_files

struct SweepOptions {
    std::string sweep_file;
    std::string out;
    Shard shard;
    int jobs = 0;                 // CPU threads; 0: every core
    std::string backend = "auto";  // auto (GPU if present), cpu or cuda
    int max_runs = -1;            // stop starting runs after this many finished (-1: all); tests and time boxes
    int gpu_group = 512;          // models per many-models launch
    bool lanes = true;            // CPU: train compatible runs eight at a time in SIMD lanes (bit-identical)
    bool quiet = false;
};

struct SweepReport {
    size_t planned = 0;    // runs in the whole sweep
    size_t selected = 0;   // runs in this shard
    size_t skipped = 0;    // already finished
    size_t trained = 0;    // finished by this invocation
    std::vector<std::string> failures;  // "id: why"
    double seconds = 0;
    std::string backend;   // cpu or cuda
};

SweepReport run_sweep(const SweepOptions& options);
// The same for runs planned elsewhere (a search rung: a subset of a sweep's
// expansion, renumbered); options.sweep_file is not read.
SweepReport run_planned_sweep(const SweepSpec& spec, const std::vector<SweepRun>& runs, const SweepOptions& options);

// Where run `id` lives in a sweep output folder.
std::string sweep_run_dir(const std::string& out, const std::string& id);

// How often each label was drawn (y = 1) during training: the counter-based
// stream replayed for steps 0..T. Keyed by label name.
std::map<std::string, long> training_label_counts(const ExperimentConfig& cfg);

}  // namespace sca
