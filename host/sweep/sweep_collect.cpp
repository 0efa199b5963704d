#include "host/sweep/sweep_collect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"
#include "host/eval/selection.hpp"
#include "host/sweep/sweep_run.hpp"

namespace sca {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string csv_line(const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
        const std::string& c = cells[i];
        if (i) s += ',';
        if (c.find_first_of(",\"\n") == std::string::npos) {
            s += c;
            continue;
        }
        s += '"';
        for (char ch : c) s += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        s += '"';
    }
    return s + "\n";
}

namespace {

// Column names in first-seen order.
struct Columns {
    std::vector<std::string> names;
    std::map<std::string, size_t> index;
    size_t add(const std::string& n) {
        auto it = index.find(n);
        if (it != index.end()) return it->second;
        index[n] = names.size();
        names.push_back(n);
        return names.size() - 1;
    }
};

std::string number(const json& v) {
    if (v.is_null()) return "nan";
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return fmt::format("{:.9g}", v.get<double>());
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

CollectResult collect_sweep(const CollectOptions& o) {
    const fs::path plan_path = fs::path(o.dir) / sweep_files::kPlan;
    if (!fs::exists(plan_path))
        throw IoError("'" + o.dir + "' has no " + sweep_files::kPlan + " (is it the --out of `sca sweep`?)");
    json plan;
    try {
        plan = json::parse(read_file(plan_path.string()));
    } catch (const json::exception& e) {
        throw IoError("'" + plan_path.string() + "' is not a sweep plan: " + e.what());
    }
    const auto& planned = plan.at("runs");
    const std::vector<std::string> axis_columns = plan.at("columns").get<std::vector<std::string>>();

    Columns cols;
    for (const char* c : {"index", "id", "status"}) cols.add(c);
    for (const auto& c : axis_columns) cols.add(c);
    std::vector<std::map<size_t, std::string>> cells;
    std::vector<std::string> group_of;
    std::map<std::string, std::vector<size_t>> finished_by_group;  // group -> row indices
    std::vector<std::string> group_order;
    CollectResult result;

    for (const auto& r : planned) {
        std::map<size_t, std::string> row;
        const std::string id = r.at("id").get<std::string>();
        const std::string dir = sweep_run_dir(o.dir, id);
        const std::string group = fs::path(r.at("base").get<std::string>()).stem().string();
        if (std::find(group_order.begin(), group_order.end(), group) == group_order.end()) group_order.push_back(group);
        row[cols.add("index")] = std::to_string(r.at("index").get<int>());
        row[cols.add("id")] = id;
        if (axis_columns.size() && axis_columns.front() == "base") row[cols.add("base")] = group;
        for (const auto& ov : r.at("overrides")) {
            const std::string s = ov.get<std::string>();
            const auto eq = s.find('=');
            row[cols.add(s.substr(0, eq))] = s.substr(eq + 1);
        }
        row[cols.add("config")] = sweep_config_id(group, r.at("overrides").get<std::vector<std::string>>());
        const fs::path done = fs::path(dir) / sweep_files::kDone;
        std::string status = fs::exists(done) ? "finished" : fs::exists(fs::path(dir) / sweep_files::kFailed) ? "failed" : "missing";
        if (status == "finished") {
            try {
                const auto marker = json::parse(read_file(done.string()));
                if (marker.at("config_hash") != r.at("config_hash")) status = "stale";
                const auto v = json::parse(read_file((fs::path(dir) / run_files::kValidation).string()));
                const auto& last = v.at("records").back();
                row[cols.add("val_recon")] = number(last.at("recon"));
                for (const auto& [name, value] : last.at("regularizers").items()) row[cols.add("val_" + name)] = number(value);
                if (v.contains("divergence")) row[cols.add("diverged")] = v.at("divergence").at("diverged").get<bool>() ? "1" : "0";
                const auto e = json::parse(read_file((fs::path(dir) / kEvaluationFile).string()));
                // Data-from-file runs: each concept's errors under each variant (docs/data.md).
                auto concepts = [&](const std::string& variant, const json& o) {
                    if (!o.contains("concepts")) return;
                    for (const auto& [name, c] : o.at("concepts").items())
                        for (const char* what : {"error_on", "error_off", "ratio"})
                            row[cols.add(name + "_" + what + "_" + variant)] = c.at(what).is_null() ? "inf" : number(c.at(what));
                };
                concepts("baseline", e.at("baseline"));
                for (const auto& i : e.at("interventions")) concepts(i.at("name").get<std::string>(), i);
                for (const auto& i : e.at("interventions"))
                    row[cols.add("score_" + i.at("name").get<std::string>())] = number(i.at("score"));
                // The anchor colour's error and its geometric bound exist for RGB runs only.
                if (e.at("baseline").contains("anchor"))
                    row[cols.add("anchor_error_baseline")] = number(e.at("baseline").at("anchor").at("error"));
                for (const auto& i : e.at("interventions")) {
                    if (!i.contains("anchor") || !i.at("anchor").contains("bound")) continue;
                    row[cols.add("anchor_error_" + i.at("name").get<std::string>())] = number(i.at("anchor").at("error"));
                    row[cols.add("anchor_bound_" + i.at("name").get<std::string>())] = number(i.at("anchor").at("bound"));
                }
                for (const auto& [name, n] : marker.at("label_counts").items()) row[cols.add("labels_" + name)] = number(n);
                row[cols.add("wall_seconds")] = fmt::format("{:.4f}", marker.at("wall_seconds").get<double>());
                row[cols.add("backend")] = marker.at("backend").get<std::string>();
                result.wall_seconds += marker.at("wall_seconds").get<double>();
            } catch (const std::exception& ex) {
                throw IoError("'" + dir + "' is marked finished but its outputs cannot be read: " + ex.what());
            }
        } else if (status == "failed") {
            try {
                row[cols.add("error")] = json::parse(read_file((fs::path(dir) / sweep_files::kFailed).string())).value("error", "");
            } catch (const std::exception&) {
            }
        }
        row[cols.add("status")] = status;
        if (status == "finished") finished_by_group[group].push_back(cells.size());
        group_of.push_back(group);
        cells.push_back(std::move(row));
    }
    const size_t front_col = cols.add("pareto_front"), best_col = cols.add("best");

    for (const auto& name : group_order) {
        CollectGroup g;
        g.name = name;
        for (size_t i = 0; i < cells.size(); ++i)
            if (group_of[i] == name) {
                const std::string& s = cells[i][cols.index["status"]];
                if (s == "failed") ++g.failed;
                else if (s != "finished") ++g.missing;
            }
        const auto& rows = finished_by_group[name];
        g.finished = rows.size();
        if (!rows.empty()) {
            std::vector<RunScores> scores;
            for (size_t i : rows) scores.push_back(read_run_scores(sweep_run_dir(o.dir, cells[i][cols.index["id"]]), o.score_by));
            const Selection sel = select_runs(scores);
            g.score_name = scores.front().objective_names.back().substr(6);  // "score:<name>"
            for (const auto& s : scores) g.scores.push_back(s.score);
            g.front = sel.front.size();
            for (size_t k = 0; k < rows.size(); ++k) {
                const bool on_front = std::find(sel.front.begin(), sel.front.end(), k) != sel.front.end();
                cells[rows[k]][front_col] = on_front ? "1" : "0";
                cells[rows[k]][best_col] = k == sel.best ? "1" : "0";
            }
            const size_t b = rows[sel.best];
            g.best_id = cells[b][cols.index["id"]];
            g.best_score = scores[sel.best].score;
            for (const auto& c : axis_columns)
                if (c != "base" && cells[b].count(cols.index[c]))
                    g.best_overrides += (g.best_overrides.empty() ? "" : " ") + c + "=" + cells[b][cols.index[c]];
        }
        result.groups.push_back(std::move(g));
    }

    result.header = cols.names;
    std::string csv = csv_line(cols.names);
    for (auto& row : cells) {
        std::vector<std::string> line(cols.names.size());
        for (auto& [c, v] : row) line[c] = v;
        csv += csv_line(line);
        result.rows.push_back(std::move(line));
    }
    result.csv_path = o.csv.empty() ? (fs::path(o.dir) / "results.csv").string() : o.csv;
    remove_stale_temporaries(std::filesystem::path(result.csv_path).parent_path().string(), 0);
    write_file_atomic(result.csv_path, csv);
    return result;
}

std::string collect_summary(const CollectResult& r) {
    std::string s;
    size_t finished = 0, total = r.rows.size();
    for (const auto& g : r.groups) finished += g.finished;
    s += fmt::format("{} of {} runs finished; {:.1f} s of run time in all; table: {}\n", finished, total, r.wall_seconds,
                     r.csv_path);
    s += fmt::format("{:<28} {:>5} {:>6} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6}  {}\n", "setup", "runs", "failed", "missing",
                     "min", "median", "mean", "max", "front", "best run (score)");
    for (const auto& g : r.groups) {
        if (g.scores.empty()) {
            s += fmt::format("{:<28} {:>5} {:>6} {:>7}  (no finished run)\n", g.name, g.finished, g.failed, g.missing);
            continue;
        }
        const auto [mn, mx] = std::minmax_element(g.scores.begin(), g.scores.end());
        const double mean = std::accumulate(g.scores.begin(), g.scores.end(), 0.0) / double(g.scores.size());
        s += fmt::format("{:<28} {:>5} {:>6} {:>7} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>6}  {} ({:.4f})\n", g.name, g.finished,
                         g.failed, g.missing, *mn, median(g.scores), mean, *mx, g.front, g.best_id, g.best_score);
    }
    for (const auto& g : r.groups)
        if (!g.scores.empty())
            s += fmt::format("{}: scores are of '{}'; best: {}{}\n", g.name, g.score_name, g.best_id,
                             g.best_overrides.empty() ? "" : " (" + g.best_overrides + ")");
    return s;
}

}  // namespace sca
