#include "host/config/config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "host/config/checkpoint.hpp"
#include "host/io/errors.hpp"
#include "host/io/yaml_reader.hpp"

#include <fmt/format.h>

namespace sca {

namespace {

constexpr std::uintmax_t kMaxDopesheetBytes = 16u << 20;  // also the largest experiment file

std::vector<float> read_vector(MapReader& m, const std::string& key, int K, const std::string& what, bool nonzero) {
    YAML::Node n = m.node(key);
    if (!n.IsDefined() || n.IsNull()) m.ctx().fail(n, m.path(key), "is missing (expected " + what + ")");
    if (!n.IsSequence()) m.ctx().fail(n, m.path(key), "expected a list of " + std::to_string(K) + " numbers, got " + describe(n));
    if (int(n.size()) != K)
        m.ctx().fail(n, m.path(key),
                     "has " + std::to_string(n.size()) + " entries but model.latent is " + std::to_string(K));
    std::vector<double> d;
    for (size_t i = 0; i < n.size(); ++i) d.push_back(MapReader::as<double>(m.ctx(), n[i], m.path(key) + "." + std::to_string(i)));
    check_float_vector(m.ctx(), n, m.path(key), d, nonzero);
    return std::vector<float>(d.begin(), d.end());
}

void read_dims(MapReader& m, const std::string& key, int K, RegParams& params) {
    YAML::Node n = m.node(key);
    if (!n.IsDefined() || n.IsNull()) m.ctx().fail(n, m.path(key), "is missing (expected a list of latent dims)");
    if (!n.IsSequence() || n.size() == 0)
        m.ctx().fail(n, m.path(key), "expected a non-empty list of latent dims, got " + describe(n));
    for (size_t i = 0; i < n.size(); ++i) {
        const std::string p = m.path(key) + "." + std::to_string(i);
        const int d = MapReader::as<int>(m.ctx(), n[i], p);
        if (d < 0 || d >= K)
            m.ctx().fail(n[i], p, "dim " + std::to_string(d) + " is out of range [0, " + std::to_string(K) + ")");
        if (params.has_dim(d)) m.ctx().fail(n[i], p, "dim " + std::to_string(d) + " is listed twice");
        params.add_dim(d);
    }
}

LabelFunction parse_label_function(MapReader& m, const std::string& f) {
    if (f == "redness") return LabelFunction::Redness;
    if (f == "greenness") return LabelFunction::Greenness;
    if (f == "blueness") return LabelFunction::Blueness;
    if (f == "vibrancy") return LabelFunction::Vibrancy;
    m.ctx().fail(m.node("function"), m.path("function"),
                 "unknown label function '" + f + "' (expected redness, greenness, blueness, vibrancy or similarity)");
}

// One label: a colour function or similarity (RGB data), or a file of
// per-sample probabilities (data.inputs).
LabelSpec parse_label(MapReader& m, const std::string& name, const ExperimentConfig& cfg) {
    const ConfigContext& ctx = m.ctx();
    LabelSpec l;
    l.name = name;
    if (m.has("file")) {
        if (m.has("function")) ctx.fail(m.node("function"), m.path("function"), "cannot be given together with file");
        if (!cfg.file_data())
            ctx.fail(m.node("file"), m.path("file"), "needs data.inputs (labels from a file label the file's samples)");
        l.source = LabelSource::File;
        l.file = read_data_file(ctx, m.node("file"), m.path("file"), cfg.base_dir, 1, DataValues::Probability);
        if (l.file->rows != cfg.inputs->rows)
            ctx.fail(m.node("file"), m.path("file"),
                     fmt::format("'{}' has {} samples but data.inputs '{}' has {}", l.file->path, l.file->rows,
                                 cfg.inputs->path, cfg.inputs->rows));
        m.finish("file (a file's label takes no function, power or scale)");
        return l;
    }
    const std::string f = m.require<std::string>("function", "redness, greenness, blueness, vibrancy or similarity; or file");
    if (cfg.file_data())
        ctx.fail(m.node("function"), m.path("function"),
                 "colour functions label the RGB grid; with data.inputs give the label's file (labels." + name + ".file)");
    std::string allowed = "function, power, scale";
    if (f == "similarity") {
        l.source = LabelSource::Similarity;
        const auto v = numbers(m, "colour", 3, "an RGB colour [r, g, b]");
        for (int c = 0; c < 3; ++c) {
            if (v[size_t(c)] < 0 || v[size_t(c)] > 1)
                ctx.fail(m.node("colour")[size_t(c)], m.path("colour") + "." + std::to_string(c), "must be in [0, 1]");
            l.colour[size_t(c)] = float(v[size_t(c)]);
        }
        allowed += ", colour";
    } else {
        l.function = parse_label_function(m, f);
    }
    l.power = float(m.get<double>("power", 1.0));
    l.scale = float(m.get<double>("scale", 1.0));
    if (!(l.power > 0)) ctx.fail(m.node("power"), m.path("power"), "must be > 0");
    if (!(l.scale >= 0 && l.scale <= 1)) ctx.fail(m.node("scale"), m.path("scale"), "must be a probability in [0, 1]");
    m.finish(allowed);
    return l;
}

RegularizerSpec parse_regularizer(const ConfigContext& ctx, const YAML::Node& node, const std::string& path, int K,
                                  const std::vector<LabelSpec>& labels) {
    MapReader m(ctx, node, path);
    RegularizerSpec r;
    r.name = m.require<std::string>("name", "a name, used by the schedule");
    if (r.name.empty() || r.name == "lr")
        ctx.fail(m.node("name"), m.path("name"), "'" + r.name + "' cannot name a regularizer");
    r.kind = m.require<std::string>("kind", "separate, anchor, anti-anchor, subspace, anti-subspace or unitarity");
    RegParams& p = r.params;
    std::string allowed = "name, kind, labels";
    auto direction = [&](const std::string& key) {
        // `axis: N` (and `sign: -1`) is the one-hot direction e_N (or -e_N).
        if (m.has("axis")) {
            if (m.has(key)) ctx.fail(m.node("axis"), m.path("axis"), "cannot be given together with " + key);
            const int axis = int_in(m, "axis", 0, 0, K - 1);
            const int sign = m.get<int>("sign", 1);
            if (sign != 1 && sign != -1) ctx.fail(m.node("sign"), m.path("sign"), "must be 1 or -1");
            p.dir[axis] = float(sign);
            allowed += ", axis, sign";
            return;
        }
        auto v = read_vector(m, key, K, "a list of " + std::to_string(K) + " numbers (or axis: N)", key == "direction");
        double len = 0;
        for (float x : v) len += double(x) * x;
        len = std::sqrt(len);
        if (key == "direction") {
            if (len == 0) ctx.fail(m.node(key), m.path(key), "must not be the zero vector");
            for (int k = 0; k < K; ++k) p.dir[k] = float(v[k] / (len + kDirEps));
        } else {
            for (int k = 0; k < K; ++k) p.dir[k] = v[k];
        }
    };
    if (r.kind == "separate") {
        p.kind = RegKind::Separate;
        p.power = int_in(m, "power", 100, 1, Limits::kMaxPower);
        p.shift = m.get<bool>("shift", true);
        allowed += ", power, shift";
    } else if (r.kind == "anchor") {
        const std::string metric = m.get<std::string>("metric", "angular");
        if (metric == "angular") {
            p.kind = RegKind::AnchorAngular;
            direction("direction");
            allowed += ", metric, direction";
        } else if (metric == "euclidean") {
            p.kind = RegKind::AnchorEuclidean;
            direction("point");
            allowed += ", metric, point";
        } else {
            ctx.fail(m.node("metric"), m.path("metric"), "unknown metric '" + metric + "' (expected angular or euclidean)");
        }
    } else if (r.kind == "anti-anchor") {
        p.kind = RegKind::AntiAnchor;
        direction("direction");
        p.hemi = m.get<bool>("hemi", true);
        allowed += ", direction, hemi";
    } else if (r.kind == "subspace" || r.kind == "anti-subspace") {
        p.kind = r.kind == "subspace" ? RegKind::Subspace : RegKind::AntiSubspace;
        read_dims(m, "dims", K, p);
        allowed += ", dims";
    } else if (r.kind == "unitarity") {
        p.kind = RegKind::Unitarity;
    } else {
        ctx.fail(m.node("kind"), m.path("kind"),
                 "unknown kind '" + r.kind + "' (expected separate, anchor, anti-anchor, subspace, anti-subspace or unitarity)");
    }
    if (m.has("labels")) {
        MapReader lm(ctx, m.node("labels"), m.path("labels"));
        for (const auto& kv : m.node("labels")) {
            const std::string label = key_text(ctx, kv.first, m.path("labels"));
            int index = -1;
            for (size_t i = 0; i < labels.size(); ++i)
                if (labels[i].name == label) index = int(i);
            if (index < 0) ctx.fail(kv.first, lm.path(label), "names no label in the labels section");
            r.affinities.emplace_back(index, float(lm.scalar<double>(label)));
        }
        if (r.affinities.empty()) ctx.fail(m.node("labels"), m.path("labels"), "is empty (omit it to apply to every sample)");
    }
    m.finish(allowed);
    return r;
}

Schedule parse_schedule(const ConfigContext& ctx, const YAML::Node& node, const std::string& base_dir) {
    MapReader m(ctx, node, "schedule");
    if (m.has("csv")) {
        const std::string file = m.scalar<std::string>("csv");
        if (m.has("keyframes"))
            ctx.fail(m.node("keyframes"), "schedule.keyframes", "cannot be given together with schedule.csv");
        if (m.has("properties"))
            ctx.fail(m.node("properties"), "schedule.properties", "cannot be given with schedule.csv (use prop:space:interp headers)");
        m.finish("csv, or keyframes and properties");
        namespace fs = std::filesystem;
        const fs::path p = fs::path(file).is_absolute() ? fs::path(file) : fs::path(base_dir) / file;
        std::error_code exists_ec;  // the non-throwing form: a name too long does not exist either
        if (!fs::exists(p, exists_ec)) ctx.fail(m.node("csv"), "schedule.csv", "file '" + p.string() + "' does not exist");
        // Not a device or pipe (/dev/zero would never end), and not absurdly large.
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            ctx.fail(m.node("csv"), "schedule.csv", "'" + p.string() + "' is not a regular file");
        if (fs::file_size(p, ec) > kMaxDopesheetBytes)
            ctx.fail(m.node("csv"), "schedule.csv",
                     "'" + p.string() + "' is larger than " + std::to_string(kMaxDopesheetBytes >> 20) + " MiB");
        return load_dopesheet_csv(p.string());
    }
    std::map<std::string, PropertySettings> settings;
    if (m.has("properties")) {
        MapReader pm(ctx, m.node("properties"), "schedule.properties");
        for (const auto& kv : m.node("properties")) {
            const std::string name = key_text(ctx, kv.first, "schedule.properties");
            MapReader one(ctx, kv.second, pm.path(name));
            PropertySettings s;
            if (one.has("space")) s.space = parse_space(one.scalar<std::string>("space"), ctx.where(kv.second, one.path("space")), one.path("space"));
            if (one.has("interp")) s.interp = parse_interp(one.scalar<std::string>("interp"), ctx.where(kv.second, one.path("interp")), one.path("interp"));
            one.finish("space, interp");
            settings[name] = s;
            pm.has(name);
        }
    }
    YAML::Node frames = m.node("keyframes");
    if (!frames.IsDefined() || frames.IsNull())
        ctx.fail(node, "schedule.keyframes", "is missing (expected a list of rows like {step: 0, lr: 0.01}, or schedule.csv)");
    if (!frames.IsSequence()) ctx.fail(frames, "schedule.keyframes", "expected a list of rows, got " + describe(frames));
    std::vector<KeyframeRow> rows;
    for (size_t i = 0; i < frames.size(); ++i) {
        const std::string path = "schedule.keyframes." + std::to_string(i);
        MapReader row(ctx, frames[i], path);
        KeyframeRow r;
        if (!row.has("step")) ctx.fail(frames[i], path + ".step", "is missing (every row needs a step)");
        r.step = row.scalar<std::string>("step");
        r.where = ctx.where(frames[i]["step"], path + ".step");
        for (const auto& kv : frames[i]) {
            const std::string key = key_text(ctx, kv.first, path);
            if (key == "step") continue;
            r.values[key] = row.scalar<double>(key);
        }
        rows.push_back(std::move(r));
    }
    m.finish("keyframes, properties, csv");
    return build_schedule(std::move(rows), std::move(settings), ctx.where(node, "schedule"));
}

// `init:` a model file (or a run directory holding model.safetensors) whose
// shape must be the config's; returns its absolute path.
std::string parse_init(const ConfigContext& ctx, const YAML::Node& node, const std::string& base_dir,
                       const ModelShape& shape) {
    namespace fs = std::filesystem;
    const std::string text = MapReader::as<std::string>(ctx, node, "init");
    fs::path p = fs::path(text).is_absolute() ? fs::path(text) : fs::path(base_dir) / text;
    std::error_code ec;
    if (fs::is_directory(p, ec)) p /= "model.safetensors";
    if (!fs::is_regular_file(p, ec))
        ctx.fail(node, "init", "'" + p.string() + "' is not a model file or a run directory with a model.safetensors");
    // Read whole: no model this trainer accepts comes near 1 GiB (a /proc file may claim terabytes).
    if (fs::file_size(p, ec) > (std::uintmax_t(1) << 30))
        ctx.fail(node, "init", "'" + p.string() + "' is larger than 1 GiB, more than any model here");
    ModelShape got;
    try {
        got = shape_from(load_safetensors(p.string()), p.string());
    } catch (const std::exception& e) {
        ctx.fail(node, "init", "'" + p.string() + "' is not a readable model: " + e.what());
    }
    auto show = [](const ModelShape& s) {
        return fmt::format("input_dim {}, hidden {}, layers {}, latent {}", s.input_dim, s.hidden, s.layers, s.latent);
    };
    if (got.input_dim != shape.input_dim || got.hidden != shape.hidden || got.layers != shape.layers || got.latent != shape.latent)
        ctx.fail(node, "init", "'" + p.string() + "' holds a model of shape (" + show(got) + ") but this config's model is (" +
                                   show(shape) + "); fine-tuning needs the same shape");
    const fs::path absolute = fs::absolute(p, ec);
    return (ec ? p : absolute).lexically_normal().string();
}

// Data file names in the resolved config become absolute, so the run
// directory's config.yaml (resume, sca eval) names the same files.
void absolute_data_paths(YAML::Node doc, const std::string& base_dir) {
    auto fix = [&](YAML::Node n) {
        if (n.IsDefined() && n.IsScalar() && !n.Scalar().empty()) n = resolve_data_path(n.Scalar(), base_dir);
    };
    if (doc["data"].IsMap()) fix(doc["data"]["inputs"]);
    if (doc["labels"].IsMap())
        for (auto kv : doc["labels"])
            if (kv.second.IsMap()) fix(kv.second["file"]);
    if (doc["evaluation"].IsMap()) {
        YAML::Node e = doc["evaluation"];
        fix(e["inputs"]);
        if (e["labels"].IsMap())
            for (auto kv : e["labels"]) fix(kv.second);
    }
}

// The schedule as a YAML node (for the resolved config: CSV schedules are inlined).
YAML::Node schedule_node(const Schedule& s) {
    YAML::Node out;
    for (const auto& r : s.rows) {
        YAML::Node row;
        const bool absolute = !r.step.empty() && r.step.find_first_not_of("0123456789") == std::string::npos;
        if (absolute) row["step"] = std::stoll(r.step);
        else row["step"] = r.step;
        for (const auto& [k, v] : r.values) row[k] = fmt::format("{}", v);  // shortest exact form
        out["keyframes"].push_back(row);
    }
    for (const auto& [name, ps] : s.settings) {
        out["properties"][name]["space"] = to_string(ps.space);
        out["properties"][name]["interp"] = to_string(ps.interp);
    }
    return out;
}

ExperimentConfig parse_document(const ConfigContext& ctx, YAML::Node root, const std::string& base_dir) {
    ExperimentConfig cfg;
    cfg.source = ctx.source;
    cfg.context = ctx;
    MapReader top(ctx, root, "");
    cfg.seed = top.get<unsigned long long>("seed", 0);
    cfg.backend = top.get<std::string>("backend", "auto");
    if (cfg.backend != "auto" && cfg.backend != "cpu" && cfg.backend != "cuda")
        ctx.fail(top.node("backend"), "backend", "unknown backend '" + cfg.backend + "' (expected auto, cpu or cuda)");

    if (!top.has("model")) ctx.fail(root, "model", "is missing (expected {latent, hidden, layers})");
    cfg.base_dir = base_dir;
    if (top.has("data")) {
        MapReader m(ctx, top.node("data"), "data");
        if (m.has("inputs")) {
            if (m.has("grid")) ctx.fail(m.node("grid"), "data.grid", "cannot be given together with data.inputs (the grid is the RGB data)");
            cfg.inputs = read_data_file(ctx, m.node("inputs"), "data.inputs", base_dir, 2, DataValues::Finite);
        }
        cfg.grid = int_in(m, "grid", 8, 2, Limits::kMaxGrid);
        cfg.batch = int_in(m, "batch", 64, 1, Limits::kMaxBatch);
        m.finish("inputs, grid, batch");
    }
    {
        MapReader m(ctx, top.node("model"), "model");
        if (cfg.file_data()) {
            const int D = cfg.inputs->cols;
            cfg.model.input_dim = m.get<int>("input_dim", D);
            if (cfg.model.input_dim != D)
                ctx.fail(m.node("input_dim"), "model.input_dim",
                         fmt::format("is {} but data.inputs '{}' has {} columns (omit input_dim: it follows the data)",
                                     cfg.model.input_dim, cfg.inputs->path, D));
            if (D > Limits::kMaxInputDim)
                ctx.fail(top.node("data"), "data.inputs",
                         fmt::format("'{}' has {} columns, more than the {} supported", cfg.inputs->path, D, Limits::kMaxInputDim));
        } else {
            cfg.model.input_dim = int_in(m, "input_dim", 3, 3, 3);
        }
        cfg.model.hidden = int_in(m, "hidden", 16, 1, Limits::kMaxHidden);
        cfg.model.layers = int_in(m, "layers", 1, 1, Limits::kMaxLayers);
        if (!m.has("latent")) ctx.fail(top.node("model"), "model.latent", "is missing (expected the bottleneck width K)");
        cfg.model.latent = int_in(m, "latent", 4, 1, Limits::kMaxLatent);
        m.finish("input_dim (3 for the RGB data, else data.inputs' width), hidden, layers, latent");
    }
    {
        const int validation_rows = validation_row_count(cfg);
        const int rows = std::max(cfg.batch, validation_rows);
        const double gib = working_bytes(cfg.model, rows) / double(1u << 30);
        if (gib > Limits::kMaxWorkingGiB)
            ctx.fail(top.node("model"), "model",
                     fmt::format("needs about {:.1f} GiB (activations for {} rows, the max of data.batch {} and the "
                                 "validation set, plus parameters, gradient and Adam moments), more than the {} GiB "
                                 "limit; reduce model.hidden, "
                                 "model.layers, data.batch or data.grid",
                                 gib, rows, cfg.batch, Limits::kMaxWorkingGiB));
    }
    if (top.has("labels")) {
        YAML::Node ln = top.node("labels");
        MapReader lm(ctx, ln, "labels");
        for (const auto& kv : ln) {
            const std::string name = key_text(ctx, kv.first, "labels");
            lm.has(name);
            MapReader m(ctx, kv.second, lm.path(name));
            cfg.labels.push_back(parse_label(m, name, cfg));
        }
        if (int(cfg.labels.size()) > Limits::kMaxLabels)
            ctx.fail(ln, "labels", "at most " + std::to_string(Limits::kMaxLabels) + " labels are supported");
    }
    if (top.has("regularizers")) {
        YAML::Node rn = top.node("regularizers");
        if (!rn.IsSequence()) ctx.fail(rn, "regularizers", "expected a list, got " + describe(rn));
        std::set<std::string> names;
        for (size_t i = 0; i < rn.size(); ++i) {
            const std::string path = "regularizers." + std::to_string(i);
            auto r = parse_regularizer(ctx, rn[i], path, cfg.model.latent, cfg.labels);
            if (!names.insert(r.name).second) ctx.fail(rn[i]["name"], path + ".name", "'" + r.name + "' is used twice");
            cfg.regularizers.push_back(std::move(r));
        }
        if (int(cfg.regularizers.size()) > Limits::kMaxRegularizers)
            ctx.fail(rn, "regularizers", "at most " + std::to_string(Limits::kMaxRegularizers) + " are supported");
    }
    if (!top.has("schedule")) ctx.fail(root, "schedule", "is missing (expected keyframes or csv)");
    YAML::Node sched_node = top.node("schedule");
    cfg.schedule = parse_schedule(ctx, sched_node, base_dir);
    for (const auto& t : cfg.schedule.tracks) {
        bool known = t.name == "lr";
        for (const auto& r : cfg.regularizers) known = known || r.name == t.name;
        if (!known) {
            std::string names = "lr";
            for (const auto& r : cfg.regularizers) names += ", " + r.name;
            ctx.fail(sched_node, "schedule." + t.name, "names no regularizer (expected one of: " + names + ")");
        }
        for (const auto& [step, v] : t.keys)
            if (v < 0)
                ctx.fail(sched_node, "schedule." + t.name,
                         "is negative (" + std::to_string(v) + ") at step " + std::to_string(step));
    }
    if (!cfg.schedule.find("lr")) ctx.fail(sched_node, "schedule.lr", "is never keyed (the learning rate needs at least one keyframe)");
    for (const auto& r : cfg.regularizers)
        if (!cfg.schedule.find(r.name))
            cfg.warnings.push_back("regularizer '" + r.name + "' is not in the schedule: its weight is 1 at every step");

    if (top.has("checkpoint")) {
        MapReader m(ctx, top.node("checkpoint"), "checkpoint");
        cfg.checkpoint_every = int_in(m, "every", 0, 0, 100000000);
        m.finish("every");
    }
    if (top.has("init")) cfg.init = parse_init(ctx, top.node("init"), base_dir, cfg.model);
    if (top.has("evaluation")) cfg.evaluation = top.node("evaluation");
    top.finish("seed, backend, model, data, labels, regularizers, schedule, checkpoint, init, evaluation");

    cfg.document = YAML::Clone(root);
    cfg.document["schedule"] = schedule_node(cfg.schedule);
    if (!cfg.init.empty()) cfg.document["init"] = cfg.init;  // absolute: the run's config.yaml resumes from anywhere
    absolute_data_paths(cfg.document, base_dir);
    return cfg;
}

}  // namespace

int validation_row_count(const ExperimentConfig& cfg) {
    if (cfg.file_data()) return std::min(cfg.inputs->rows, Limits::kMaxValidationRows);
    return (cfg.grid - 1) * (cfg.grid - 1) * (cfg.grid - 1) + 8;
}

double working_bytes(const ModelShape& shape, int rows) {
    double per_row = 0;
    for (const auto& L : linear_layers(shape)) per_row += L.in + 2.0 * L.out;
    per_row += 2.0 * std::max({shape.hidden, shape.latent, shape.input_dim}) + 8 * shape.latent + 2 * shape.input_dim + 16;
    return (per_row * rows + 4.0 * double(parameter_count(shape))) * sizeof(float);
}

float ExperimentConfig::lr_at(int step) const { return float(*schedule.value("lr", step)); }

std::vector<float> ExperimentConfig::weights_at(int step) const {
    std::vector<float> w;
    for (const auto& r : regularizers) w.push_back(float(schedule.value(r.name, step).value_or(1.0)));
    return w;
}

std::string apply_override(YAML::Node root, const std::string& assignment, const std::string& source) {
    const auto eq = assignment.find('=');
    const std::string where = "command-line override '" + assignment + "'";
    if (eq == std::string::npos || eq == 0) throw ConfigError(where, "", "expected key.path=value");
    const std::string path = assignment.substr(0, eq);
    YAML::Node value;
    try {
        value = YAML::Load(assignment.substr(eq + 1));
    } catch (const YAML::Exception& e) {
        throw ConfigError(where, path, std::string("the value is not valid YAML: ") + e.msg);
    }
    std::vector<std::string> parts;
    std::stringstream ss(path);
    for (std::string part; std::getline(ss, part, '.');) {
        if (part.empty()) throw ConfigError(where, path, "has an empty key segment");
        parts.push_back(part);
    }
    // yaml-cpp nodes are handles: walk with reset() so assignments reach the tree.
    YAML::Node cur;
    cur.reset(root);
    std::string canonical;
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string key = parts[i];
        if (cur.IsSequence()) {
            long long index = -1;
            try {
                size_t used = 0;
                index = std::stoll(key, &used);
                if (used != key.size()) index = -1;
            } catch (...) {
            }
            if (index < 0)
                for (size_t j = 0; j < cur.size(); ++j)
                    if (cur[j].IsMap() && cur[j]["name"] && cur[j]["name"].Scalar() == key) index = (long long)j;
            if (index < 0 || index >= (long long)cur.size())
                throw ConfigError(where, join_path(canonical, key),
                                  "no element '" + key + "' in this list (" + std::to_string(cur.size()) + " elements)");
            key = std::to_string(index);
            canonical = join_path(canonical, key);
            if (i + 1 == parts.size()) {
                cur[size_t(index)] = value;
                return canonical;
            }
            YAML::Node next = cur[size_t(index)];
            cur.reset(next);
            continue;
        }
        if (cur.IsDefined() && !cur.IsNull() && !cur.IsMap())
            throw ConfigError(where, canonical, "is not a mapping, so it has no key '" + key + "'");
        canonical = join_path(canonical, key);
        if (i + 1 == parts.size()) {
            cur[key] = value;
            return canonical;
        }
        YAML::Node next = cur[key];
        cur.reset(next);
    }
    (void)source;
    return canonical;
}

std::string to_yaml(const YAML::Node& node) {
    YAML::Emitter out;
    out << node;
    return std::string(out.c_str()) + "\n";
}

ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source,
                                  const std::vector<std::string>& overrides) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(source + ":" + std::to_string(e.mark.line + 1), "", "invalid YAML: " + e.msg);
    }
    return parse_experiment_tree(root, source, overrides);
}

ExperimentConfig parse_experiment_tree(YAML::Node root, const std::string& source,
                                       const std::vector<std::string>& overrides) {
    ConfigContext ctx;
    ctx.source = source;
    if (!root.IsDefined() || root.IsNull()) throw ConfigError(source, "", "the file is empty");
    if (!root.IsMap()) throw ConfigError(source, "", "expected a mapping at the top level");
    for (const auto& o : overrides) ctx.overrides[apply_override(root, o, source)] = o;
    refuse_duplicate_keys(ctx, root);
    const std::string base_dir = std::filesystem::path(source).parent_path().string();
    return parse_document(ctx, root, base_dir.empty() ? "." : base_dir);
}

ExperimentConfig load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
    // Not a device or pipe (a sweep's `base: /dev/zero` would never end), nor absurdly large.
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
        throw ConfigError(path, "", "is not a regular file (expected an experiment YAML file)");
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > kMaxDopesheetBytes)
        throw ConfigError(path, "", "is larger than " + std::to_string(kMaxDopesheetBytes >> 20) + " MiB");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ConfigError(path, "", "cannot read the config file");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_experiment(ss.str(), path, overrides);
}

}  // namespace sca
