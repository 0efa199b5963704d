// A training run on disk: sets up the run directory, drives a backend through
// steps 0..T with validation every T/10 steps and periodic checkpoints, and
// writes every output atomically. Resuming continues from the last checkpoint
// and ends with the same weights as an uninterrupted run.
#pragma once
#include <string>
#include <vector>

#include "backend.hpp"
#include "config.hpp"

namespace sca {

struct TrainOptions {
    std::string out_dir;
    bool quiet = false;
    bool overwrite = false;  // replace an existing run directory's outputs
    int stop_after = -1;     // stop (with a checkpoint) after this step; -1: run to T
    std::string backend;     // overrides the config's backend if not empty
};

struct RunSummary {
    std::string dir;
    std::string backend;
    int first_step = 0, last_step = -1;  // the steps this invocation trained
    bool finished = false;               // reached step T
    double seconds = 0;
    std::vector<ValidationRecord> validation;
    TrainState state;
};

// Run-directory file names.
namespace run_files {
inline constexpr const char* kConfig = "config.yaml";
inline constexpr const char* kModel = "model.safetensors";
inline constexpr const char* kOptimizer = "optimizer.safetensors";
inline constexpr const char* kTrainLog = "train_log.csv";
inline constexpr const char* kValidation = "validation.json";
}  // namespace run_files

RunSummary train_run(const ExperimentConfig& cfg, const TrainOptions& options);
RunSummary resume_run(const std::string& dir, const TrainOptions& options);

// Picks the backend: "cpu", "cuda" or "auto" (a GPU if one is present).
std::unique_ptr<Backend> make_backend(const ExperimentConfig& cfg, const std::string& which, bool quiet);

}  // namespace sca
