// Racing over seeds (successive halving): every configuration of a sweep is
// trained on a few seeds, the best fraction by a robust statistic of their
// scores (sweep_configs.hpp) is kept, the survivors get more seeds, and so on.
//
//   # search file
//   sweep: isolated-sample.yaml   # the configurations: a sweep file with no seed axis
//   seeds: 3                      # seeds of the first rung: first_seed .. first_seed+2
//   grow: 2                       # each rung multiplies the seeds by this
//   keep: 0.25                    # each rung keeps this fraction of its configurations (at least one)
//   rungs: 4
//   statistic: p10                # min, p10, p25, median or mean
//   error_band: [0.84, 1.2]       # eligible median anchor error, as fractions of the bound
//   first_seed: 0
//
// Rung r's runs are a subset of one expansion (the sweep times seeds
// first_seed .. first_seed + seeds*grow^(rungs-1) - 1), so a run of rung r is
// the same run (same id, same directory) in rung r+1 and is never trained
// twice. Output folder:
//
//   OUT/runs/<id>/           every run, shared by the rungs
//   OUT/rung-<r>/sweep.json  the rung's plan; runs -> ../runs; results.csv and configs.csv
//   OUT/search.json          every finished rung: seeds, configurations, survivors, the best
//
// The state is the finished runs themselves: rerunning the command after a
// kill recomputes the finished rungs' rankings and goes on where it stopped.
#pragma once
#include <string>
#include <vector>

#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_configs.hpp"
#include "host/sweep/sweep_run.hpp"

namespace sca {

struct SearchSpec {
    std::string source;         // the search file
    SweepSpec sweep;            // the configurations
    int seeds = 3, grow = 2, rungs = 3, first_seed = 0;
    double keep = 0.25;
    ConfigRules rules;
};

SearchSpec parse_search(const std::string& yaml_text, const std::string& source);
SearchSpec load_search(const std::string& path);

// Seeds of rung r (0-based).
int rung_seeds(const SearchSpec& spec, int rung);

struct SearchOptions {
    SweepOptions sweep;  // out, jobs, backend, quiet, shard, max_runs (sweep_file unused)
    int only_rung = -1;  // >= 0: train only this rung's shard (earlier rungs must be complete)
};

struct RungReport {
    int rung = 0, seeds = 0;
    size_t configs = 0, runs = 0, trained = 0, failed = 0;
    bool complete = false;            // every run finished or failed
    ConfigTable table;                // when complete
    std::vector<std::string> survivors;
};

struct SearchReport {
    std::vector<RungReport> rungs;    // the rungs reached
    bool finished = false;            // every rung complete
    size_t trained = 0;
    double seconds = 0;
};

// Runs (or resumes) the search; stops early at an incomplete rung (a shard, --max-runs).
SearchReport run_search(const SearchSpec& spec, const SearchOptions& options);
// Without training: how far the finished runs take the search (the first incomplete rung is last).
SearchReport search_status(const SearchSpec& spec, const std::string& out);
std::string search_summary(const SearchSpec& spec, const SearchReport& report);
// OUT/search.json: the complete rungs of `report` (written atomically).
void write_search_json(const SearchSpec& spec, const std::string& out, const SearchReport& report);

// Slurm: the first incomplete rung as a job array (task I: `sca search FILE --out OUT
// --rung R --shard I/N`) and a job after it that advances the search (`sca search
// FILE --out OUT --slurm --submit`). Returns the two scripts' paths; empty when the
// search is finished.
struct SearchSlurmPlan {
    int rung = -1, shards = 0;
    std::string array_script, advance_script, array_job, advance_job;
};
SearchSlurmPlan write_search_slurm(const SearchSpec& spec, const std::string& out, const std::string& sca_binary);
void submit_search_slurm(SearchSlurmPlan& plan);

}  // namespace sca
