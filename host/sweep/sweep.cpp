#include "host/sweep/sweep.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/sweep/sweep_slurm.hpp"
#include "host/io/yaml_reader.hpp"
#include "host/sweep/sweep_sampling.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

std::string at(const std::string& source, const YAML::Node& node) {
    if (node.IsDefined() && node.Mark().line >= 0) return source + ":" + std::to_string(node.Mark().line + 1);
    return source;
}

// A value as override text: scalars as written, lists and maps in flow style.
std::string value_text(const YAML::Node& v) {
    if (v.IsScalar()) return v.Scalar();
    YAML::Emitter out;
    out.SetSeqFormat(YAML::Flow);
    out.SetMapFormat(YAML::Flow);
    out << v;
    return out.c_str();
}

}  // namespace

std::string sweep_value_label(const std::string& text) {
    std::string s;
    for (char c : text) {
        const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
        if (keep) s += c;
        else if (!s.empty() && s.back() != '-' && (c == ',' || c == ' ' || c == '/' || c == '_' || c == ':')) s += '-';
    }
    while (!s.empty() && s.back() == '-') s.pop_back();
    return s.empty() ? "x" : s;
}

void check_sweep_key(const std::string& key, const std::string& where) {
    static const std::regex re(R"(^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$)");
    if (!std::regex_match(key, re))
        throw ConfigError(where, key, "is not a dotted config key (like schedule.keyframes.3.anchor or seed)");
}

namespace {

// "a..b" (integers, inclusive, a <= b), else empty.
bool parse_range(const std::string& text, long long& first, long long& last) {
    static const std::regex re(R"(^\s*(-?\d{1,15})\s*\.\.\s*(-?\d{1,15})\s*$)");  // no stoll overflow
    std::smatch m;
    if (!std::regex_match(text, m, re)) return false;
    first = std::stoll(m[1]);
    last = std::stoll(m[2]);
    return true;
}

// The values of one key: a list of values or a range.
std::vector<std::pair<std::string, std::string>> axis_values(const YAML::Node& node, const std::string& source,
                                                             const std::string& key) {
    std::vector<std::pair<std::string, std::string>> out;  // (override value, label)
    if (node.IsScalar()) {
        long long a = 0, b = 0;
        if (!parse_range(node.Scalar(), a, b))
            throw ConfigError(at(source, node), key,
                              "expected a list of values or an integer range like 0..59, got '" + node.Scalar() + "'");
        if (b < a) throw ConfigError(at(source, node), key, "the range " + node.Scalar() + " is empty (its end is before its start)");
        if (b - a >= 1000000) throw ConfigError(at(source, node), key, "the range " + node.Scalar() + " has more than a million values");
        for (long long v = a; v <= b; ++v)
            out.emplace_back(std::to_string(v), v >= 0 ? fmt::format("{:03d}", v) : std::to_string(v));
        return out;
    }
    if (!node.IsSequence() || node.size() == 0)
        throw ConfigError(at(source, node), key, "expected a non-empty list of values or an integer range like 0..59");
    for (const auto& v : node) {
        if (!v.IsDefined() || v.IsNull()) throw ConfigError(at(source, v), key, "has an empty value in its list");
        const std::string text = value_text(v);
        out.emplace_back(text, sweep_value_label(text));
    }
    return out;
}

SweepAxis parse_axis(const YAML::Node& node, const std::string& source, size_t index) {
    const std::string name = "axes." + std::to_string(index);
    SweepAxis axis;
    axis.where = at(source, node);
    if (!node.IsMap() || node.size() != 1)
        throw ConfigError(axis.where, name,
                          "each axis is a map of one key to its values (key: [v1, v2] or key: 0..59), zip: {key: [...], ...} or sample: {...}");
    const auto it = node.begin();
    const std::string key = it->first.as<std::string>();
    if (key == "sample") {
        const SweepAxis sampled = parse_sample_axis(YAML::Node(it->second), source, name + ".sample");
        axis.keys = sampled.keys;
        axis.values = sampled.values;
    } else if (key == "zip") {
        const YAML::Node zip = it->second;  // a copy: it->second is a proxy that dies with this statement (ASan: stack-use-after-scope)
        if (!zip.IsMap() || zip.size() == 0)
            throw ConfigError(at(source, zip), name + ".zip", "expected a map of keys to equal-length value lists");
        std::vector<std::vector<std::pair<std::string, std::string>>> columns;
        std::string first_key;
        for (const auto& kv : zip) {
            const std::string k = kv.first.as<std::string>();
            check_sweep_key(k, at(source, kv.first));
            axis.keys.push_back(k);
            columns.push_back(axis_values(kv.second, source, name + ".zip." + k));
            if (columns.size() == 1) first_key = k;
            else if (columns.back().size() != columns.front().size())
                throw ConfigError(at(source, kv.second), name + ".zip." + k,
                                  fmt::format("has {} values but {} has {}; zipped lists must have the same length",
                                              columns.back().size(), first_key, columns.front().size()));
        }
        for (size_t v = 0; v < columns.front().size(); ++v) {
            SweepAxisValue value;
            for (size_t k = 0; k < columns.size(); ++k) {
                value.assignments.push_back(axis.keys[k] + "=" + columns[k][v].first);
                value.label += (k ? "+" : "") + columns[k][v].second;
            }
            axis.values.push_back(std::move(value));
        }
    } else {
        check_sweep_key(key, at(source, it->first));
        axis.keys.push_back(key);
        for (const auto& [text, label] : axis_values(it->second, source, name + "." + key))
            axis.values.push_back({{key + "=" + text}, label});
    }
    std::set<std::string> seen;
    for (const auto& v : axis.values) {
        std::string all;
        for (const auto& a : v.assignments) all += a + "\n";
        if (!seen.insert(all).second)
            throw ConfigError(axis.where, name, "lists the value '" + v.assignments.front() + "' twice");
    }
    return axis;
}

int positive_int(const YAML::Node& n, const std::string& source, const std::string& key) {
    int v = -1;
    if (!n.IsScalar()) throw ConfigError(at(source, n), key, "expected a non-negative integer, got " + describe(n));
    if (auto error = parse_decimal<int>(n.Scalar(), v)) throw ConfigError(at(source, n), key, *error);
    if (v < 0) throw ConfigError(at(source, n), key, "expected a non-negative integer, got " + describe(n));
    return v;
}

SlurmSettings parse_slurm(const YAML::Node& node, const std::string& source) {
    SlurmSettings s;
    if (!node.IsMap()) throw ConfigError(at(source, node), "slurm", "expected a map (partition, gpus, cpus, time, shards, job_name, options)");
    for (const auto& kv : node) {
        const std::string k = kv.first.as<std::string>();
        const YAML::Node& v = kv.second;
        const std::string key = "slurm." + k;
        auto text = [&](const YAML::Node& n) {
            if (!n.IsScalar()) throw ConfigError(at(source, n), key, "expected a plain value, got " + describe(n));
            if (const std::string why = slurm_value_problem(k, n.Scalar()); !why.empty()) throw ConfigError(at(source, n), key, why);
            return n.Scalar();
        };
        if (k == "partition") s.partition = text(v);
        else if (k == "gpus") s.gpus = positive_int(v, source, key);
        else if (k == "cpus") s.cpus = positive_int(v, source, key);
        else if (k == "shards") s.shards = positive_int(v, source, key);
        else if (k == "time") s.time = text(v);
        else if (k == "job_name") s.job_name = text(v);
        else if (k == "options") {
            if (!v.IsSequence()) throw ConfigError(at(source, v), key, "expected a list of sbatch options like [--mem=4G]");
            for (const auto& o : v) s.options.push_back(text(o));
        } else
            throw ConfigError(at(source, kv.first), key, "unknown key (expected partition, gpus, cpus, time, shards, job_name or options)");
    }
    return s;
}

}  // namespace

SweepSpec parse_sweep(const std::string& yaml_text, const std::string& source) {
    SweepSpec spec;
    spec.source = source;
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1), "", "invalid YAML: " + e.msg);
    }
    if (!root.IsDefined() || root.IsNull()) throw ConfigError(source, "", "the sweep file is empty");
    if (!root.IsMap()) throw ConfigError(source, "", "expected a mapping at the top level (base, set, axes, ...)");
    if (auto d = duplicate_key(root)) throw ConfigError(at(source, d->first), d->second, "is given twice (each key may appear once)");
    const fs::path dir = fs::path(source).parent_path();
    try {
        for (const auto& kv : root) {
            const std::string k = kv.first.as<std::string>();
            const YAML::Node& v = kv.second;
            if (k == "base") {
                std::vector<YAML::Node> items;
                if (v.IsScalar()) items.push_back(v);
                else if (v.IsSequence() && v.size() > 0)
                    for (const auto& b : v) items.push_back(b);
                else throw ConfigError(at(source, v), "base", "expected an experiment file or a list of them");
                for (const auto& b : items) {
                    if (!b.IsScalar()) throw ConfigError(at(source, b), "base", "expected an experiment file name");
                    const fs::path p = fs::path(b.Scalar()).is_absolute() ? fs::path(b.Scalar()) : dir / b.Scalar();
                    std::error_code exists_ec;  // the non-throwing form: a name too long is "not a file" too
                    if (!fs::is_regular_file(p, exists_ec))
                        throw ConfigError(at(source, b), "base", "no experiment file '" + p.string() + "'");
                    spec.bases.push_back(p.lexically_normal().string());
                }
            } else if (k == "set") {
                if (!v.IsMap()) throw ConfigError(at(source, v), "set", "expected a map of dotted keys to values");
                for (const auto& s : v) {
                    const std::string key = s.first.as<std::string>();
                    check_sweep_key(key, at(source, s.first));
                    spec.fixed.push_back(key + "=" + value_text(s.second));
                }
            } else if (k == "axes") {
                if (!v.IsSequence())
                    throw ConfigError(at(source, v), "axes", "expected a list of axes (- key: [values] or - zip: {...})");
                for (size_t i = 0; i < v.size(); ++i) spec.axes.push_back(parse_axis(v[i], source, i));
            } else if (k == "evaluation_grids") {
                spec.evaluation_grids = v.as<bool>();
            } else if (k == "train_log_every") {
                spec.train_log_every = positive_int(v, source, k);
                if (spec.train_log_every < 1)
                    throw ConfigError(at(source, v), k, "expected a whole number of steps, at least 1 (1 logs every step)");
            } else if (k == "slurm") {
                spec.slurm = parse_slurm(v, source);
            } else {
                throw ConfigError(at(source, kv.first), k,
                                  "unknown key (expected base, set, axes, evaluation_grids, train_log_every or slurm)");
            }
        }
    } catch (const YAML::TypedBadConversion<bool>& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1), "evaluation_grids", "expected true or false");
    } catch (const YAML::Exception& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1), "", "unexpected value: " + e.msg);
    }
    if (spec.bases.empty()) throw ConfigError(source, "base", "is required (the experiment file the sweep varies)");
    std::set<std::string> keys;
    for (const auto& a : spec.axes)
        for (const auto& k : a.keys)
            if (!keys.insert(k).second) throw ConfigError(a.where, k, "is swept by two axes; zip them or use one axis");
    return spec;
}

SweepSpec load_sweep(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ConfigError(path, "", "cannot read the sweep file");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_sweep(ss.str(), path);
}

std::vector<std::string> sweep_columns(const SweepSpec& spec) {
    std::vector<std::string> c;
    if (spec.bases.size() > 1) c.push_back("base");
    for (const auto& a : spec.axes)
        for (const auto& k : a.keys) c.push_back(k);
    return c;
}

size_t sweep_run_count(const SweepSpec& spec) {
    size_t total = spec.bases.size();
    for (const auto& a : spec.axes) total = std::min(total * a.values.size(), kMaxSweepRuns + 1);  // no overflow
    return total;
}

std::string sweep_config_id(const std::string& setup, const std::vector<std::string>& axis_overrides) {
    std::string config = setup + "\n";
    for (const auto& s : axis_overrides)
        if (s.rfind("seed=", 0) != 0) config += s + "\n";
    return fmt::format("{}-{:08x}", setup, uint32_t(fnv1a64(config) >> 32));
}

std::vector<SweepRun> expand_sweep(const SweepSpec& spec, bool resolve, const std::function<bool(const SweepRun&)>& keep) {
    const size_t total = sweep_run_count(spec);
    // Planning resolves and validates every run (about 0.5 ms and 2.3 KB each
    // here), and every shard plans the whole sweep: a million runs is minutes.
    if (total > kMaxSweepRuns)
        throw ConfigError(spec.source, "axes",
                          fmt::format("expands to more than {} runs (split it into several sweeps)", kMaxSweepRuns));
    // Each base is parsed once; a run clones the tree (parsing is most of the
    // cost of planning a large sweep). A run that fails is parsed again from
    // the text, so its message has the file's line numbers.
    std::map<std::string, std::string> texts;
    std::map<std::string, YAML::Node> trees;
    if (resolve)
        for (const auto& b : spec.bases) {
            std::ifstream f(b, std::ios::binary);
            std::stringstream ss;
            ss << f.rdbuf();
            texts[b] = ss.str();
            try {
                trees[b] = YAML::Load(texts[b]);
            } catch (const YAML::Exception&) {
                trees[b] = YAML::Node();  // the text path below reports it
            }
        }
    std::vector<SweepRun> runs;
    runs.reserve(total);
    std::set<std::string> ids;
    std::vector<size_t> digit(spec.axes.size(), 0);  // mixed-radix counter, last axis fastest
    for (size_t b = 0; b < spec.bases.size(); ++b) {
        std::fill(digit.begin(), digit.end(), 0);
        const size_t per_base = total / spec.bases.size();
        for (size_t n = 0; n < per_base; ++n) {
            SweepRun run;
            run.index = int(b * per_base + n);
            run.base = spec.bases[b];
            run.overrides = spec.fixed;
            std::string label = spec.bases.size() > 1 ? fs::path(run.base).stem().string() : "";
            std::string identity = fs::path(run.base).stem().string() + "\n";
            for (size_t a = 0; a < spec.axes.size(); ++a) {
                const SweepAxisValue& v = spec.axes[a].values[digit[a]];
                for (const auto& s : v.assignments) {
                    run.overrides.push_back(s);
                    run.axis_overrides.push_back(s);
                    identity += s + "\n";
                }
                // A one-value axis names nothing that varies: adding one keeps the ids.
                if (spec.axes[a].values.size() > 1) label += (label.empty() ? "" : "_") + v.label;
            }
            if (label.size() > 60) label = label.substr(0, 60);
            if (label.empty()) label = "run";
            run.id = fmt::format("{}-{:08x}", label, uint32_t(fnv1a64(identity) >> 32));
            if (keep && !keep(run)) {
                for (size_t a = spec.axes.size(); a-- > 0;) {
                    if (++digit[a] < spec.axes[a].values.size()) break;
                    digit[a] = 0;
                }
                continue;
            }
            if (resolve) {
                try {
                    try {
                        const ExperimentConfig cfg =
                            parse_experiment_tree(YAML::Clone(trees[run.base]), run.base, run.overrides);
                        evaluation_settings(cfg, cfg.model.latent);  // a bad evaluation section fails before anything trains
                        run.config_text = to_yaml(cfg.document);
                    } catch (const ConfigError&) {
                        parse_experiment(texts[run.base], run.base, run.overrides);  // throws, with lines
                        throw;
                    }
                } catch (const ConfigError& e) {
                    // Point at the axis (or `set:`) whose override broke the experiment.
                    std::string where = spec.source, key = "base";
                    for (const auto& a : spec.axes)
                        for (const auto& k : a.keys)
                            if (e.where().find("'" + k + "=") != std::string::npos) where = a.where, key = k;
                    for (const auto& f : spec.fixed)
                        if (e.where().find("'" + f + "'") != std::string::npos) key = "set." + f.substr(0, f.find('='));
                    throw ConfigError(where, key, "run " + run.id + " is not a valid experiment: " + e.what());
                }
                run.config_hash = fnv1a64(run.config_text);
                // Content-derived: the same resolved config gets the same id however the
                // sweep that planned it was written (an added one-value axis, a sample grown).
                run.id = fmt::format("{}-{:08x}", label, uint32_t(run.config_hash >> 32));
            }
            if (!ids.insert(run.id).second)
                throw ConfigError(spec.source, "axes", "two runs get the id '" + run.id + "' (the same overrides twice?)");
            runs.push_back(std::move(run));
            for (size_t a = spec.axes.size(); a-- > 0;) {
                if (++digit[a] < spec.axes[a].values.size()) break;
                digit[a] = 0;
            }
        }
    }
    return runs;
}

Shard parse_shard(const std::string& text) {
    static const std::regex re(R"(^(\d{1,9})/(\d{1,9})$)");
    std::smatch m;
    if (std::regex_match(text, m, re)) {
        Shard s{std::stoi(m[1]), std::stoi(m[2])};
        if (s.count >= 1 && s.index < s.count) return s;
    }
    throw ConfigError("--shard", "", "expected I/N with 0 <= I < N (e.g. 0/4), got '" + text + "'");
}

bool in_shard(const SweepRun& run, const Shard& shard) { return run.index % shard.count == shard.index; }

}  // namespace sca
