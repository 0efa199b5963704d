// `sca collect DIR`: a sweep's results in one table. One CSV row per planned
// run (its overrides, final validation losses, intervention scores, anchor
// colour errors, label counts, wall time, Pareto front membership), and a
// summary: per setup the score distribution, the Pareto front and the best run.
#pragma once
#include <string>
#include <vector>

namespace sca {

struct CollectOptions {
    std::string dir;       // a sweep output folder (holds sweep.json)
    std::string csv;       // where to write the table; empty: DIR/results.csv
    std::string score_by;  // the intervention whose score selection maximises; empty: each run's select_by
};

struct CollectGroup {
    std::string name;              // the setup (base experiment stem)
    std::string score_name;        // the intervention selected by
    size_t finished = 0, failed = 0, missing = 0;
    std::vector<double> scores;    // of the finished runs
    size_t front = 0;
    std::string best_id;
    double best_score = 0;
    std::string best_overrides;
};

struct CollectResult {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<CollectGroup> groups;
    double wall_seconds = 0;  // the sum over finished runs
    std::string csv_path;
};

CollectResult collect_sweep(const CollectOptions& options);
std::string collect_summary(const CollectResult& result);
// RFC 4180 quoting where needed.
std::string csv_line(const std::vector<std::string>& cells);

}  // namespace sca
