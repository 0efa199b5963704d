// A training run on disk: sets up the run directory, drives a backend through
// steps 0..T with validation every T/10 steps and periodic checkpoints, and
// writes every output atomically. Resuming continues from the last checkpoint
// and ends with the same weights as an uninterrupted run.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/train/backend.hpp"
#include "host/config/config.hpp"
#include "host/train/divergence.hpp"

namespace sca {

// Training met a non-finite loss, gradient or parameter: names the step and
// the term. Nothing from the failed stretch is written; the run directory
// keeps its last good checkpoint. (A sweep catches this, records the run as
// failed and goes on.)
class NumericalFault : public std::runtime_error {
public:
    NumericalFault(int step, std::string term, const std::string& what)
        : std::runtime_error(what), step_(step), term_(std::move(term)) {}
    int step() const { return step_; }
    const std::string& term() const { return term_; }  // "recon", a regularizer's name, "total", "parameters"

private:
    int step_;
    std::string term_;
};

struct TrainOptions {
    std::string out_dir;
    bool quiet = false;
    // Replace an existing run directory. The new run is written to a hidden
    // sibling of DIR and the two directories are swapped in one rename only
    // when this invocation ends well: a failed or killed overwrite leaves the
    // old run as it was, a finished one leaves nothing of the old run.
    bool overwrite = false;
    int stop_after = -1;     // stop (with a checkpoint) after this step; -1: run to T
    std::string backend;     // overrides the config's backend if not empty
    // train_log.csv keeps the rows of every log_every-th step and of the last
    // step (a sweep's train_log_every); recorded in the resume state, which a
    // resume follows.
    int log_every = 1;
    // Called with the directory being written once the run has reached T,
    // before an --overwrite swaps it in (the evaluation belongs to the run).
    std::function<void(const std::string& dir)> on_finished;
};

struct RunSummary {
    std::string dir;
    std::string backend;
    int first_step = 0, last_step = -1;  // the steps this invocation trained
    bool finished = false;               // reached step T
    double seconds = 0;
    std::vector<ValidationRecord> validation;
    TrainState state;
    Divergence divergence;  // over every validation record the run directory holds
};

// Run-directory file names.
namespace run_files {
inline constexpr const char* kConfig = "config.yaml";
inline constexpr const char* kModel = "model.safetensors";
inline constexpr const char* kOptimizer = "optimizer.safetensors";
inline constexpr const char* kTrainLog = "train_log.csv";
inline constexpr const char* kValidation = "validation.json";
inline constexpr const char* kStaging = ".overwrite";  // where earlier versions staged --overwrite (removed when found)
}  // namespace run_files

RunSummary train_run(const ExperimentConfig& cfg, const TrainOptions& options);

// Writes the run-directory files of a run trained elsewhere (the sweep's
// GPU groups), exactly as train_run writes them: config, logs, model, state.
void write_run_outputs(const ExperimentConfig& cfg, const std::string& dir, const std::vector<StepRecord>& log,
                       const std::vector<ValidationRecord>& validation, const TrainState& state,
                       const std::string& backend, int log_every = 1);
RunSummary resume_run(const std::string& dir, const TrainOptions& options);

// Picks the backend: "cpu", "cuda" or "auto" (a GPU if one is present).
std::unique_ptr<Backend> make_backend(const ExperimentConfig& cfg, const std::string& which, bool quiet);

}  // namespace sca
