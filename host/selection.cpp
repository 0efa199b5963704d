#include "selection.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "atomic_file.hpp"
#include "errors.hpp"
#include "evaluation.hpp"
#include "run.hpp"

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

}  // namespace sca
