#include "host/eval/selection.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "host/io/atomic_file.hpp"
#include "host/config/config.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"

namespace sca {

namespace fs = std::filesystem;

RunScores read_run_scores(const std::string& dir, const std::string& score_by) {
    RunScores r;
    r.dir = dir;
    const std::string vpath = (fs::path(dir) / run_files::kValidation).string();
    const std::string epath = (fs::path(dir) / kEvaluationFile).string();
    if (!fs::exists(vpath)) throw IoError("'" + dir + "' has no " + run_files::kValidation + " (is it a run directory?)");
    if (!fs::exists(epath)) throw IoError("'" + dir + "' has no " + kEvaluationFile + "; run `sca eval " + dir + "` first");
    try {
        const auto v = nlohmann::ordered_json::parse(read_file(vpath));
        const auto& records = v.at("records");
        if (records.empty()) throw IoError("'" + vpath + "' holds no validation record");
        const auto& last = records.back();
        auto number = [](const auto& x) { return x.is_null() ? std::nan("") : x.template get<double>(); };
        r.objective_names.push_back("recon");
        r.minimise.push_back(number(last.at("recon")));
        for (const auto& [name, value] : last.at("regularizers").items()) {
            r.objective_names.push_back(name);
            r.minimise.push_back(number(value));
        }
        const auto e = nlohmann::json::parse(read_file(epath));
        const std::string which = score_by.empty() ? e.value("select_by", std::string()) : score_by;
        std::string names;
        bool found = false;
        for (const auto& i : e.at("interventions")) {
            const std::string name = i.at("name").get<std::string>();
            names += (names.empty() ? "" : ", ") + name;
            if (name == which || (which.empty() && !found)) {
                r.score = number(i.at("score"));
                r.objective_names.push_back("score:" + name);
                found = true;
                if (!which.empty()) break;
            }
        }
        if (!found)
            throw ConfigError(epath, "interventions", "has no intervention '" + which + "' to select by (it has: " + names + ")");
    } catch (const nlohmann::json::exception& ex) {
        throw IoError("'" + dir + "': cannot read its validation or evaluation: " + ex.what());
    }
    return r;
}

namespace {

// Lower is better; NaN is worst.
bool better(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }
bool no_worse(double a, double b) { return std::isnan(b) || (!std::isnan(a) && a <= b); }

}  // namespace

bool dominates(const RunScores& a, const RunScores& b) {
    bool strictly = false;
    for (size_t i = 0; i < a.minimise.size(); ++i) {
        if (!no_worse(a.minimise[i], b.minimise[i])) return false;
        strictly = strictly || better(a.minimise[i], b.minimise[i]);
    }
    if (!no_worse(-a.score, -b.score)) return false;
    return strictly || better(-a.score, -b.score);
}

Selection select_runs(const std::vector<RunScores>& runs) {
    if (runs.empty()) throw std::invalid_argument("select_runs: no runs");
    for (const auto& r : runs)
        if (r.objective_names != runs.front().objective_names)
            throw ConfigError(r.dir, "", "its objectives differ from '" + runs.front().dir +
                                             "' (select among runs of one experiment)");
    Selection s;
    for (size_t i = 0; i < runs.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < runs.size() && !dominated; ++j) dominated = j != i && dominates(runs[j], runs[i]);
        if (!dominated) s.front.push_back(i);
    }
    s.best = s.front.front();
    for (size_t i : s.front)
        if (better(-runs[i].score, -runs[s.best].score)) s.best = i;
    return s;
}

namespace {

// Every scalar of a YAML tree under its dotted path (list elements by index).
void flatten(const YAML::Node& node, const std::string& path, std::map<std::string, std::string>& out) {
    if (node.IsMap()) {
        for (const auto& kv : node) flatten(kv.second, join_path(path, kv.first.Scalar()), out);
    } else if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) flatten(node[i], join_path(path, std::to_string(i)), out);
    } else {
        out[path] = node.IsScalar() ? node.Scalar() : "";
    }
}

bool at_or_below(const std::string& key, const std::string& prefix) {
    return key == prefix || key.rfind(prefix + ".", 0) == 0;
}

}  // namespace

std::vector<std::string> config_differences(const std::vector<std::string>& dirs, const std::vector<std::string>& ignored) {
    std::vector<std::map<std::string, std::string>> configs;
    std::vector<std::string> skip = {"seed"};  // (a multi-base sweep's "base" column names no config key)
    for (const auto& d : dirs) {
        const std::string path = (fs::path(d) / run_files::kConfig).string();
        YAML::Node root;
        try {
            root = YAML::Load(read_file(path));
        } catch (const std::exception& e) {
            throw IoError("'" + path + "': cannot read the run's config: " + e.what());
        }
        if (configs.empty())  // swept keys in canonical form (regularizers by index, not name)
            for (const auto& key : ignored) {
                try {
                    skip.push_back(apply_override(YAML::Clone(root), key + "=0", path));
                } catch (const std::exception&) {
                    skip.push_back(key);
                }
            }
        configs.emplace_back();
        flatten(root, "", configs.back());
    }
    std::set<std::string> keys;
    for (const auto& c : configs)
        for (const auto& [k, _] : c) keys.insert(k);
    std::vector<std::string> differing;
    for (const auto& k : keys) {
        if (std::any_of(skip.begin(), skip.end(), [&](const std::string& p) { return at_or_below(k, p); })) continue;
        const auto first = configs.front().find(k);
        for (const auto& c : configs) {
            const auto it = c.find(k);
            if ((it == c.end()) != (first == configs.front().end()) || (it != c.end() && it->second != first->second)) {
                differing.push_back(k);
                break;
            }
        }
    }
    return differing;
}

std::string pooling_warning(const std::vector<std::string>& differing, size_t runs) {
    std::string keys;
    for (size_t i = 0; i < differing.size() && i < 5; ++i) keys += (i ? ", " : "") + differing[i];
    if (differing.size() > 5) keys += fmt::format(" and {} more", differing.size() - 5);
    return fmt::format("these {} runs are not all one experiment (their configs differ in {}, not only in seed); "
                       "the Pareto front and best run pool them",
                       runs, keys);
}

}  // namespace sca
