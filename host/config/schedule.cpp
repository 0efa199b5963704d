#include "host/config/schedule.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "host/io/errors.hpp"

namespace sca {

namespace {

std::string trim(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return s.substr(a, b - a);
}

bool parse_int(const std::string& s, long long& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parse_double(const std::string& s, double& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

struct StepSpec {
    enum Kind { Absolute, After, Before } kind = Absolute;
    bool fraction = false;
    long long n = 0;
    double f = 0;
};

StepSpec parse_step(const std::string& text, const std::string& where) {
    const std::string t = trim(text);
    StepSpec s;
    std::string body = t;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
        s.kind = t[0] == '+' ? StepSpec::After : StepSpec::Before;
        body = t.substr(1);
    }
    const bool looks_fractional = body.find_first_of(".eE") != std::string::npos;
    if (s.kind != StepSpec::Absolute && looks_fractional) {
        if (!parse_double(body, s.f) || !(s.f > 0.0 && s.f < 1.0))
            throw ConfigError(where, "step",
                              "'" + t + "': a fractional relative step needs 0 < F < 1 (like +0.5)");
        s.fraction = true;
        return s;
    }
    if (!parse_int(body, s.n) || s.n < 0 || s.n > 100000000)
        throw ConfigError(where, "step",
                          "'" + t + "': expected a step: an integer (750), +N, -N, +F or -F with 0 < F < 1");
    return s;
}

double interpolate(Interp interp, double v0, double v1, double u) {
    switch (interp) {
        case Interp::Linear: return v0 + (v1 - v0) * u;
        case Interp::Step: return v0;
        case Interp::MinJerk: {
            const double u3 = u * u * u;
            return v0 + (v1 - v0) * (10 * u3 - 15 * u3 * u + 6 * u3 * u * u);
        }
    }
    return v0;
}

}  // namespace

Interp parse_interp(const std::string& s, const std::string& where, const std::string& key) {
    if (s == "minjerk") return Interp::MinJerk;
    if (s == "linear") return Interp::Linear;
    if (s == "step") return Interp::Step;
    throw ConfigError(where, key, "unknown interpolator '" + s + "' (expected minjerk, linear or step)");
}

Space parse_space(const std::string& s, const std::string& where, const std::string& key) {
    if (s == "linear") return Space::Linear;
    if (s == "log") return Space::Log;
    throw ConfigError(where, key, "unknown space '" + s + "' (expected linear or log)");
}

const char* to_string(Interp i) {
    switch (i) {
        case Interp::MinJerk: return "minjerk";
        case Interp::Linear: return "linear";
        case Interp::Step: return "step";
    }
    return "?";
}

const char* to_string(Space s) { return s == Space::Log ? "log" : "linear"; }

double PropertyTrack::value_at(int step) const {
    if (step <= keys.front().first) return keys.front().second;
    if (step >= keys.back().first) return keys.back().second;
    // First key strictly after `step`.
    auto it = std::upper_bound(keys.begin(), keys.end(), step,
                               [](int s, const std::pair<int, double>& k) { return s < k.first; });
    const auto& [t1, v1] = *it;
    const auto& [t0, v0] = *(it - 1);
    const double u = double(step - t0) / double(t1 - t0);
    if (settings.space == Space::Log) {
        const double l0 = std::log(std::max(v0, 1e-10)), l1 = std::log(std::max(v1, 1e-10));
        return std::exp(interpolate(settings.interp, l0, l1, u));
    }
    return interpolate(settings.interp, v0, v1, u);
}

const PropertyTrack* Schedule::find(const std::string& name) const {
    for (const auto& t : tracks)
        if (t.name == name) return &t;
    return nullptr;
}

std::optional<double> Schedule::value(const std::string& name, int step) const {
    const PropertyTrack* t = find(name);
    if (!t) return std::nullopt;
    return t->value_at(step);
}

Schedule build_schedule(std::vector<KeyframeRow> rows, std::map<std::string, PropertySettings> settings,
                        const std::string& where) {
    if (rows.empty()) throw ConfigError(where, "schedule", "has no keyframes (expected at least one row)");
    std::vector<StepSpec> specs;
    for (const auto& r : rows) specs.push_back(parse_step(r.step, r.where));

    std::vector<int> steps(rows.size(), -1);
    int last_abs = -1;
    std::string last_abs_where;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (specs[i].kind != StepSpec::Absolute) continue;
        const int s = int(specs[i].n);
        if (s <= last_abs)
            throw ConfigError(rows[i].where, "step",
                              "absolute step " + std::to_string(s) + " does not come after step " +
                                  std::to_string(last_abs) + " (" + last_abs_where +
                                  "); absolute steps must increase down the table");
        steps[i] = last_abs = s;
        last_abs_where = rows[i].where;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
        const StepSpec& s = specs[i];
        if (s.kind == StepSpec::Absolute) continue;
        int prev = -1, next = -1;
        for (size_t j = i; j-- > 0;)
            if (specs[j].kind == StepSpec::Absolute) { prev = steps[j]; break; }
        for (size_t j = i + 1; j < rows.size(); ++j)
            if (specs[j].kind == StepSpec::Absolute) { next = steps[j]; break; }
        const std::string text = "'" + trim(rows[i].step) + "'";
        long long resolved;
        if (s.fraction) {
            if (prev < 0 || next < 0)
                throw ConfigError(rows[i].where, "step",
                                  text + " is a fraction of the span between absolute rows, but there is no " +
                                      (prev < 0 ? "absolute row before it" : "absolute row after it"));
            const double span = double(next - prev);
            resolved = s.kind == StepSpec::After ? (long long)std::nearbyint(prev + s.f * span)
                                                 : (long long)std::nearbyint(next - s.f * span);
        } else if (s.kind == StepSpec::After) {
            if (prev < 0) throw ConfigError(rows[i].where, "step", text + " needs an absolute row before it");
            resolved = prev + s.n;
        } else {
            if (next < 0) throw ConfigError(rows[i].where, "step", text + " needs an absolute row after it");
            resolved = next - s.n;
        }
        if ((prev >= 0 && resolved < prev) || (next >= 0 && resolved > next) || resolved < 0)
            throw ConfigError(rows[i].where, "step",
                              text + " resolves to step " + std::to_string(resolved) +
                                  ", outside its absolute neighbours [" + std::to_string(std::max(prev, 0)) + ", " +
                                  (next >= 0 ? std::to_string(next) : std::string("end")) + "]");
        steps[i] = int(resolved);
    }

    Schedule sched;
    std::map<std::string, std::vector<std::tuple<int, double, std::string>>> keyed;
    for (size_t i = 0; i < rows.size(); ++i)
        for (const auto& [name, value] : rows[i].values) keyed[name].emplace_back(steps[i], value, rows[i].where);
    for (auto& [name, keys] : keyed) {
        std::stable_sort(keys.begin(), keys.end(),
                         [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
        PropertyTrack track;
        track.name = name;
        if (auto it = settings.find(name); it != settings.end()) track.settings = it->second;
        for (size_t k = 0; k < keys.size(); ++k) {
            if (k > 0 && std::get<0>(keys[k]) == std::get<0>(keys[k - 1]))
                throw ConfigError(std::get<2>(keys[k]), name,
                                  "keyed twice at step " + std::to_string(std::get<0>(keys[k])) + " (also at " +
                                      std::get<2>(keys[k - 1]) + ")");
            track.keys.emplace_back(std::get<0>(keys[k]), std::get<1>(keys[k]));
        }
        sched.tracks.push_back(std::move(track));
    }
    for (const auto& [name, _] : settings)
        if (!keyed.count(name))
            throw ConfigError(where, "schedule.properties." + name, "has settings but is never keyed");
    sched.last_step = *std::max_element(steps.begin(), steps.end());
    sched.rows = std::move(rows);
    sched.settings = std::move(settings);
    sched.row_steps = std::move(steps);
    return sched;
}

Schedule parse_dopesheet_csv(const std::string& text, const std::string& source) {
    std::istringstream in(text);
    std::string line;
    int line_no = 0;
    auto split = [](const std::string& l) {
        std::vector<std::string> cells;
        std::string cell;
        std::istringstream ls(l);
        while (std::getline(ls, cell, ',')) cells.push_back(trim(cell));
        if (!l.empty() && l.back() == ',') cells.push_back("");
        return cells;
    };
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (trim(line).empty() || trim(line)[0] == '#') continue;
        header = split(line);
        break;
    }
    const std::string header_where = source + ":" + std::to_string(line_no);
    if (header.empty()) throw ConfigError(source, "", "empty dopesheet (expected a header STEP,PHASE,ACTION,prop,...)");
    int step_col = -1;
    std::vector<int> prop_cols;
    std::vector<std::string> prop_names;
    std::map<std::string, PropertySettings> settings;
    for (size_t c = 0; c < header.size(); ++c) {
        std::string upper = header[c];
        for (auto& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
        if (upper == "STEP") { step_col = int(c); continue; }
        if (upper == "PHASE" || upper == "ACTION") continue;
        std::vector<std::string> parts;
        std::string part;
        std::istringstream ps(header[c]);
        while (std::getline(ps, part, ':')) parts.push_back(trim(part));
        if (parts.empty() || parts[0].empty() || parts.size() > 3)
            throw ConfigError(header_where, "column " + std::to_string(c + 1),
                              "'" + header[c] + "': expected prop, prop:space or prop:space:interp");
        const std::string& name = parts[0];
        if (settings.count(name)) throw ConfigError(header_where, name, "column appears twice");
        PropertySettings ps_;
        if (parts.size() >= 2 && !parts[1].empty()) ps_.space = parse_space(parts[1], header_where, name);
        if (parts.size() == 3 && !parts[2].empty()) ps_.interp = parse_interp(parts[2], header_where, name);
        settings[name] = ps_;
        prop_cols.push_back(int(c));
        prop_names.push_back(name);
    }
    if (step_col < 0) throw ConfigError(header_where, "STEP", "the header has no STEP column");
    std::vector<KeyframeRow> rows;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (trim(line).empty() || trim(line)[0] == '#') continue;
        const std::string where = source + ":" + std::to_string(line_no);
        auto cells = split(line);
        if (cells.size() > header.size())
            throw ConfigError(where, "", "row has " + std::to_string(cells.size()) + " cells, the header " +
                                             std::to_string(header.size()));
        cells.resize(header.size());
        KeyframeRow row;
        row.step = cells[step_col];
        row.where = where;
        if (row.step.empty()) throw ConfigError(where, "STEP", "is blank (every row needs a step)");
        for (size_t p = 0; p < prop_cols.size(); ++p) {
            const std::string& cell = cells[prop_cols[p]];
            if (cell.empty()) continue;
            double v;
            if (!parse_double(cell, v))
                throw ConfigError(where, prop_names[p], "'" + cell + "' is not a finite number");
            row.values[prop_names[p]] = v;
        }
        rows.push_back(std::move(row));
    }
    // Columns that are never keyed carry settings only; drop them quietly.
    for (auto it = settings.begin(); it != settings.end();) {
        bool used = false;
        for (const auto& r : rows) used = used || r.values.count(it->first);
        it = used ? std::next(it) : settings.erase(it);
    }
    return build_schedule(std::move(rows), std::move(settings), source);
}

Schedule load_dopesheet_csv(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ConfigError(path, "", "cannot read the dopesheet file");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_dopesheet_csv(ss.str(), path);
}

}  // namespace sca
