// Sweeps: one YAML file names a base experiment (or several) and axes over
// dotted config keys; expanding it gives a deterministic list of runs, each
// with a stable id and its resolved config. The file format:
//
//   base: ../isolated.yaml            # relative to the sweep file; a list is an axis of setups
//   set: {checkpoint_every: 0}        # overrides applied to every run (optional)
//   axes:                             # the cartesian product, first axis outermost
//     - schedule.keyframes.3.anchor: [0.05, 0.1]       # a list of values
//     - zip:                                           # equal-length lists, stepped together
//         schedule.keyframes.3.anti-subspace: [0.001, 0.003]
//         schedule.keyframes.0.anti-subspace: [0.1, 0.25]
//     - sample: {count: 64, keys: {schedule.keyframes.3.step: {integer: [500, 1000]}}}  # drawn (sweep_sampling.hpp)
//     - seed: 0..59                                    # an inclusive integer range
//   evaluation_grids: false           # write the NPY grids of each evaluation (default false)
//   train_log_every: 10               # train_log.csv keeps every k-th step and the last (default 10; 1: all)
//   slurm: {partition: gpu, gpus: 1, time: "00:30:00", shards: 8, options: ["--mem=4G"]}
//
// Any problem is a ConfigError naming the sweep file, line and key.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/config/config.hpp"
#include "host/io/fnv_hash.hpp"

namespace sca {

struct SlurmSettings {
    std::string partition;             // empty: the cluster's default
    int gpus = 0;                      // GPUs per array task (--gpus-per-task); 0: none requested
    int cpus = 0;                      // CPUs per array task; 0: not set
    std::string time = "01:00:00";     // per array task
    int shards = 0;                    // array tasks; 0: one per 64 runs, at most 64
    std::string job_name;              // empty: the sweep file's stem
    std::vector<std::string> options;  // further #SBATCH lines, e.g. --mem=4G, --account=x
};

struct SweepAxisValue {
    std::vector<std::string> assignments;  // key=value, one per key of the axis
    std::string label;                     // the short form used in run ids
};

struct SweepAxis {
    std::vector<std::string> keys;
    std::vector<SweepAxisValue> values;
    std::string where;  // file:line of the axis
};

// The most runs one sweep may expand to.
inline constexpr size_t kMaxSweepRuns = 1'000'000;

struct SweepSpec {
    std::string source;                 // the sweep file
    std::vector<std::string> bases;     // experiment files, resolved against the sweep file's folder
    std::vector<std::string> fixed;     // `set:` as key=value
    std::vector<SweepAxis> axes;
    bool evaluation_grids = false;
    int train_log_every = 10;  // a sweep's logs are for plots: every step costs 170 KB and 3 ms per run
    SlurmSettings slurm;
};

struct SweepRun {
    int index = 0;                       // position in the expansion
    std::string id;                      // stable: the multi-valued axes' labels and a hash of the resolved config
    std::string base;                    // experiment file
    std::vector<std::string> overrides;  // fixed ones, then one per axis key, in axis order
    std::vector<std::string> axis_overrides;  // only those from axes (what varies)
    std::string config_text;             // the resolved config (what the run directory's config.yaml holds)
    uint64_t config_hash = 0;            // FNV-1a of config_text
};

SweepSpec parse_sweep(const std::string& yaml_text, const std::string& source);
// How many runs the sweep expands to, saturated at kMaxSweepRuns + 1.
size_t sweep_run_count(const SweepSpec& spec);
SweepSpec load_sweep(const std::string& path);

// Every run of the sweep in order. With `resolve`, each run's config is loaded
// (a run whose overrides do not make a valid experiment is a ConfigError
// naming the sweep file and the axis); without, config_text stays empty.
// With `keep`, only the runs it accepts (seen before resolving, index and
// overrides set) are resolved and returned; their indices stay the expansion's.
std::vector<SweepRun> expand_sweep(const SweepSpec& spec, bool resolve = true,
                                   const std::function<bool(const SweepRun&)>& keep = {});

// A configuration's name: the setup and every swept value but the seed, hashed
// (collect's `config` column; the search ranks and keeps configurations by it).
std::string sweep_config_id(const std::string& setup, const std::vector<std::string>& axis_overrides);

// The axis keys of the sweep in column order (with "base" first when there are several bases).
std::vector<std::string> sweep_columns(const SweepSpec& spec);

struct Shard {
    int index = 0, count = 1;
};
// "I/N" with 0 <= I < N.
Shard parse_shard(const std::string& text);
// Run i belongs to shard i mod N: every shard gets a mix of the whole sweep.
bool in_shard(const SweepRun& run, const Shard& shard);

// The short form of a value in a run id: letters, digits, '.', '+', '-'.
std::string sweep_value_label(const std::string& text);
// Throws a ConfigError at `where` unless `key` is a dotted config key.
void check_sweep_key(const std::string& key, const std::string& where);

}  // namespace sca
