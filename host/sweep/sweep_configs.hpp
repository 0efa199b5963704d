// Grouped results: a sweep's runs gathered into configurations (every swept
// value but the seed) and ranked by a robust statistic of their seeds' scores,
// so that a schedule wins, not a lucky seed. `sca collect` writes the table as
// DIR/configs.csv; the search (sweep_search.hpp) ranks its rungs with it.
//
// A configuration is eligible only if its median anchor-colour error under the
// scored intervention lies in a band around the geometric bound (default 0.84
// to 1.2 times it: [0.28, 0.40] for ablation's 1/3): a configuration whose
// intervention barely removes the concept cannot win on r^2 alone. A run is
// "collapsed" when its intervention removed less than half the bound's error.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "host/sweep/sweep_collect.hpp"

namespace sca {

struct ConfigRules {
    std::string statistic = "p10";  // min, p10, p25, median or mean: what ranks configurations
    double error_low = 0.84;        // eligible: median anchor error >= error_low * bound
    double error_high = 1.2;        //       and <= error_high * bound
    double collapse_fraction = 0.5; // a run is collapsed if its anchor error < this * bound
};

struct ConfigStats {
    std::string setup, id;              // id: the config column of results.csv
    std::string score_name;             // the intervention scored
    std::vector<std::string> values;    // one per ConfigTable::columns
    size_t runs = 0, failed = 0, missing = 0, collapsed = 0;
    std::vector<double> scores;         // finished runs' scores, then 0 for each failed run
    double min = 0, p10 = 0, p25 = 0, median = 0, mean = 0, max = 0;
    double anchor_error_median = 0, bound = 0;
    bool error_ok = false;              // the median anchor error is inside the band
    double statistic = 0;               // the ranking statistic's value
    int rank = 0;                       // 1 = best within its setup (eligible first)
};

struct ConfigTable {
    std::vector<std::string> columns;   // the swept keys other than seed and base
    std::string statistic, score_name;
    ConfigRules rules;
    std::vector<ConfigStats> configs;   // in rank order within each setup, setups in first-seen order
    std::string csv_path;
};

// One of min, p10, p25, median, mean (else a ConfigError naming `where`).
void check_statistic(const std::string& name, const std::string& where);
// The q-quantile (0..1) of `v` by linear interpolation between order statistics.
double quantile(std::vector<double> v, double q);
double statistic_of(const std::vector<double>& scores, const std::string& name);

ConfigTable group_configs(const CollectResult& result, const ConfigRules& rules);
// Writes the table to `path` atomically (csv_path is set to it).
void write_configs_csv(ConfigTable& table, const std::string& path);
// The best configuration of each setup and the top few, for the terminal.
std::string configs_summary(const ConfigTable& table, size_t top = 5);

}  // namespace sca
