#include "host/sweep/sweep_configs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace fs = std::filesystem;

void check_statistic(const std::string& name, const std::string& where) {
    for (const char* s : {"min", "p10", "p25", "median", "mean"})
        if (name == s) return;
    throw ConfigError(where, "", "unknown statistic '" + name + "' (expected min, p10, p25, median or mean)");
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

double statistic_of(const std::vector<double>& scores, const std::string& name) {
    if (scores.empty()) return std::nan("");
    if (name == "min") return *std::min_element(scores.begin(), scores.end());
    if (name == "p10") return quantile(scores, 0.10);
    if (name == "p25") return quantile(scores, 0.25);
    if (name == "median") return quantile(scores, 0.5);
    if (name == "mean") return std::accumulate(scores.begin(), scores.end(), 0.0) / double(scores.size());
    check_statistic(name, "statistic");
    return 0;
}

namespace {

double cell_number(const std::string& s) {
    if (s.empty() || s == "nan") return std::nan("");
    try {
        return std::stod(s);
    } catch (const std::exception&) {
        return std::nan("");
    }
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "nan"; }

}  // namespace

ConfigTable group_configs(const CollectResult& result, const ConfigRules& rules) {
    check_statistic(rules.statistic, "--by");
    ConfigTable t;
    t.statistic = rules.statistic;
    t.rules = rules;
    const auto& h = result.header;
    auto col = [&](const std::string& name) -> int {
        const auto it = std::find(h.begin(), h.end(), name);
        return it == h.end() ? -1 : int(it - h.begin());
    };
    // The swept columns sit between status and config.
    const int first = col("status") + 1, config_col = col("config");
    if (config_col < 0) throw IoError("the collected table has no config column");
    std::vector<int> value_cols;
    for (int c = first; c < config_col; ++c)
        if (h[size_t(c)] != "seed" && h[size_t(c)] != "base") {
            t.columns.push_back(h[size_t(c)]);
            value_cols.push_back(c);
        }
    const int base_col = col("base");
    std::map<std::string, std::string> score_of_setup;  // setup -> the intervention it is scored by
    for (const auto& g : result.groups) score_of_setup[g.name] = g.score_name;

    std::map<std::string, size_t> index;
    std::map<std::string, std::vector<double>> errors;
    for (const auto& row : result.rows) {
        const std::string& id = row[size_t(config_col)];
        const std::string setup = base_col >= 0 ? row[size_t(base_col)] : id.substr(0, id.rfind('-'));
        if (!index.count(id)) {
            index[id] = t.configs.size();
            ConfigStats c;
            c.setup = setup;
            c.id = id;
            for (int vc : value_cols) c.values.push_back(row[size_t(vc)]);
            t.configs.push_back(c);
        }
        ConfigStats& c = t.configs[index[id]];
        const std::string& status = row[size_t(col("status"))];
        if (status == "failed") {
            ++c.failed;
            c.scores.push_back(0.0);  // a diverged schedule is as bad as a run can be
            continue;
        }
        if (status != "finished") {
            ++c.missing;
            continue;
        }
        ++c.runs;
        const std::string name = score_of_setup[setup];
        if (t.score_name.empty()) t.score_name = name;
        c.score_name = name;
        auto cell = [&](const std::string& column) {
            const int k = col(column);
            if (k < 0) throw IoError("the collected table has no column '" + column + "' (is '" + name + "' an intervention?)");
            return cell_number(row[size_t(k)]);
        };
        // Data-from-file runs have no anchor colour, so no error band: their
        // score (the concept's damage ratio) says by itself whether it was removed.
        auto optional_cell = [&](const std::string& column) {
            const int k = col(column);
            return k < 0 ? std::nan("") : cell_number(row[size_t(k)]);
        };
        const double score = cell("score_" + name), error = optional_cell("anchor_error_" + name);
        c.bound = optional_cell("anchor_bound_" + name);
        c.scores.push_back(std::isfinite(score) ? score : 0.0);
        if (std::isfinite(c.bound)) {
            errors[id].push_back(error);
            if (!(error >= rules.collapse_fraction * c.bound)) ++c.collapsed;
        }
    }
    for (auto& c : t.configs) {
        if (c.scores.empty()) {
            c.min = c.p10 = c.p25 = c.median = c.mean = c.max = c.statistic = c.anchor_error_median = std::nan("");
            continue;
        }
        c.min = statistic_of(c.scores, "min");
        c.p10 = statistic_of(c.scores, "p10");
        c.p25 = statistic_of(c.scores, "p25");
        c.median = statistic_of(c.scores, "median");
        c.mean = statistic_of(c.scores, "mean");
        c.max = *std::max_element(c.scores.begin(), c.scores.end());
        c.statistic = statistic_of(c.scores, rules.statistic);
        c.anchor_error_median = errors.count(c.id) ? quantile(errors[c.id], 0.5) : std::nan("");
        c.error_ok = !std::isfinite(c.bound) || (c.anchor_error_median >= rules.error_low * c.bound &&
                                                 c.anchor_error_median <= rules.error_high * c.bound);
    }
    // Rank within each setup: eligible first, then by the statistic, the median, the id (a total order).
    std::vector<std::string> setups;
    for (const auto& c : t.configs)
        if (std::find(setups.begin(), setups.end(), c.setup) == setups.end()) setups.push_back(c.setup);
    auto key = [](double v) { return std::isfinite(v) ? v : -1e300; };
    std::stable_sort(t.configs.begin(), t.configs.end(), [&](const ConfigStats& a, const ConfigStats& b) {
        const auto sa = std::find(setups.begin(), setups.end(), a.setup), sb = std::find(setups.begin(), setups.end(), b.setup);
        if (sa != sb) return sa < sb;
        if (a.error_ok != b.error_ok) return a.error_ok;
        if (key(a.statistic) != key(b.statistic)) return key(a.statistic) > key(b.statistic);
        if (key(a.median) != key(b.median)) return key(a.median) > key(b.median);
        return a.id < b.id;
    });
    for (size_t i = 0; i < t.configs.size(); ++i)
        t.configs[i].rank = i && t.configs[i - 1].setup == t.configs[i].setup ? t.configs[i - 1].rank + 1 : 1;
    return t;
}

void write_configs_csv(ConfigTable& t, const std::string& path) {
    std::vector<std::string> header{"setup", "config"};
    for (const auto& c : t.columns) header.push_back(c);
    for (const char* c : {"runs", "failed", "missing", "collapsed", "min", "p10", "p25", "median", "mean", "max",
                          "anchor_error_median", "anchor_bound", "error_ok"})
        header.push_back(c);
    header.push_back("statistic_" + t.statistic);
    header.push_back("rank");
    header.push_back("scored_by");
    std::string csv = csv_line(header);
    for (const auto& c : t.configs) {
        std::vector<std::string> line{c.setup, c.id};
        for (const auto& v : c.values) line.push_back(v);
        for (size_t n : {c.runs, c.failed, c.missing, c.collapsed}) line.push_back(std::to_string(n));
        for (double v : {c.min, c.p10, c.p25, c.median, c.mean, c.max, c.anchor_error_median, c.bound}) line.push_back(num(v));
        line.push_back(c.error_ok ? "1" : "0");
        line.push_back(num(c.statistic));
        line.push_back(std::to_string(c.rank));
        line.push_back(c.score_name);
        csv += csv_line(line);
    }
    write_file_atomic(path, csv);
    t.csv_path = path;
}

std::string configs_summary(const ConfigTable& t, size_t top) {
    std::string s = fmt::format("{} configurations ranked by the {} score (eligible: median anchor error in [{:g}, {:g}] x the bound); table: {}\n",
                                t.configs.size(), t.statistic, t.rules.error_low, t.rules.error_high, t.csv_path);
    s += fmt::format("{:>4} {:<36} {:>4} {:>4} {:>5} {:>7} {:>7} {:>7} {:>7} {:>13}\n", "rank", "config", "runs", "fail", "coll",
                     "min", "p10", "median", "mean", "anchor err");
    for (const auto& c : t.configs) {
        if (size_t(c.rank) > top) continue;
        s += fmt::format("{:>4} {:<36} {:>4} {:>4} {:>5} {:>7.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>6.3f}/{:.3f}{}\n", c.rank, c.id,
                         c.runs, c.failed, c.collapsed, c.min, c.p10, c.median, c.mean, c.anchor_error_median, c.bound,
                         c.error_ok ? "" : " (outside the band)");
    }
    for (const auto& c : t.configs) {
        if (c.rank != 1) continue;
        std::string values;
        for (size_t k = 0; k < t.columns.size(); ++k) values += " " + t.columns[k] + "=" + c.values[k];
        s += fmt::format("{}: best configuration by {}: {}{}{}\n", c.setup, t.statistic, c.id,
                         c.error_ok ? "" : " (NONE is eligible: every median anchor error is outside the band)", values);
    }
    return s;
}

}  // namespace sca
