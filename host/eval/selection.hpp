// Selecting among seeds (docs/method.md §8): the Pareto front of runs minimising the
// final validation recon and each validated regularizer loss while
// maximising an intervention's score; the best run is the front's highest score.
#pragma once
#include <string>
#include <vector>

namespace sca {

struct RunScores {
    std::string dir;
    std::vector<std::string> objective_names;  // "recon", each regularizer, then "score:<intervention>"
    std::vector<double> minimise;              // recon and regularizer losses, lower is better
    double score = 0;                          // higher is better
};

// Reads DIR/validation.json (last record) and DIR/evaluation.json. `score_by`
// names the intervention whose score counts; empty: the evaluation's select_by.
RunScores read_run_scores(const std::string& dir, const std::string& score_by = "");

// True when a is at least as good as b in every objective and better in one.
// NaN counts as worse than any number.
bool dominates(const RunScores& a, const RunScores& b);

struct Selection {
    std::vector<size_t> front;  // indices into the runs, in input order
    size_t best = 0;            // the front's highest score (first such run on ties)
};

// All runs must have the same objectives (same regularizers); throws otherwise.
Selection select_runs(const std::vector<RunScores>& runs);

// Dotted keys whose values differ among the runs' config.yaml files, `seed`
// and every key at or below an `ignored` one excepted (a sweep's swept keys,
// in any form an override accepts). Empty: the runs are one experiment.
std::vector<std::string> config_differences(const std::vector<std::string>& dirs,
                                            const std::vector<std::string>& ignored = {});
// The warning for pooling such runs, naming the first few keys.
std::string pooling_warning(const std::vector<std::string>& differing, size_t runs);

}  // namespace sca
