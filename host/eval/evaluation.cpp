#include "host/eval/evaluation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "kernels/colour.hpp"
#include "host/io/atomic_file.hpp"
#include "host/config/dataset.hpp"
#include "host/io/errors.hpp"
#include "host/io/npy.hpp"

namespace sca {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- settings

namespace {

bool valid_name(const std::string& name) {
    if (name.empty() || name == "baseline" || name.size() > kMaxInterventionName) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum((unsigned char)c) || c == '-' || c == '_'; });
}

std::vector<float> unit(int latent, int k) {
    std::vector<float> v(size_t(latent), 0.0f);
    v[size_t(k)] = 1.0f;
    return v;
}

std::array<float, 3> rgb_colour(MapReader& f, const std::string& key) {
    const auto v = numbers(f, key, 3, "an RGB colour [r, g, b]");
    std::array<float, 3> c{};
    for (int i = 0; i < 3; ++i) {
        if (v[size_t(i)] < 0 || v[size_t(i)] > 1) f.ctx().fail(f.node(key)[size_t(i)], f.path(key) + "." + std::to_string(i), "must be in [0, 1]");
        c[size_t(i)] = float(v[size_t(i)]);
    }
    return c;
}

InterventionSpec read_intervention(const ConfigContext& ctx, const YAML::Node& node, const std::string& path, int K,
                                   const std::vector<ConceptLabels>& concepts, bool file_data) {
    MapReader f(ctx, node, path);
    InterventionSpec s;
    s.name = f.require<std::string>("name", "a name such as 'suppressed'");
    if (!valid_name(s.name))
        ctx.fail(f.node("name"), f.path("name"), "'" + s.name + "' is not a usable name (letters, digits, '-' and '_', at most " +
                                                                        std::to_string(kMaxInterventionName) + " of them; not 'baseline')");
    const std::string kind = f.require<std::string>("kind", "suppression, ablation or pruning");
    std::string allowed = "name, kind, q";
    if (kind == "suppression") {
        s.kind = InterventionKind::Suppression;
        s.q = 2;
        if (f.has("direction")) {
            const auto v = numbers(f, "direction", size_t(K), "a list of " + std::to_string(K) + " numbers (the latent width)");
            check_float_vector(ctx, f.node("direction"), f.path("direction"), v, true);
            s.suppression.direction.assign(v.begin(), v.end());
        } else {
            s.suppression.direction = unit(K, 0);
        }
        s.suppression.falloff = float(number_in(f, "falloff", 0.0, 0.0, 1.0));
        s.suppression.strength = float(number_in(f, "strength", 1.0, 0.0, 1e6));
        s.suppression.power = float(number_in(f, "power", 0.0, 0.0, 1e6));
        allowed += ", direction, falloff, strength, power";
    } else if (kind == "ablation" || kind == "pruning") {
        s.kind = kind == "ablation" ? InterventionKind::Ablation : InterventionKind::Pruning;
        s.q = 3;
        if (f.has("dims")) {
            const YAML::Node n = f.node("dims");
            if (!n.IsSequence() || n.size() == 0)
                ctx.fail(n, f.path("dims"), "expected a non-empty list of latent dims, got " + describe(n));
            std::set<int> seen;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string p = f.path("dims") + "." + std::to_string(i);
                const int d = MapReader::as<int>(ctx, n[i], p);
                if (d < 0 || d >= K) ctx.fail(n[i], p, fmt::format("dim {} is out of range [0, {})", d, K));
                if (!seen.insert(d).second) ctx.fail(n[i], p, fmt::format("dim {} is listed twice", d));
                s.dims.push_back(d);
            }
            if (s.kind == InterventionKind::Pruning && int(s.dims.size()) >= K)
                ctx.fail(n, f.path("dims"), "would prune every latent dim");
        } else {
            s.dims = {0};
        }
        allowed += ", dims";
    } else {
        ctx.fail(f.node("kind"), f.path("kind"), "unknown kind '" + kind + "' (expected suppression, ablation or pruning)");
    }
    s.q = number_in(f, "q", s.q, 1e-3, 1e3);
    if (file_data) {
        if (f.has("concept")) {
            const std::string c = f.scalar<std::string>("concept");
            s.concept_index = -1;
            for (size_t i = 0; i < concepts.size(); ++i)
                if (concepts[i].name == c) s.concept_index = int(i);
            if (s.concept_index < 0) ctx.fail(f.node("concept"), f.path("concept"), "'" + c + "' names no concept in evaluation.labels");
        }
        allowed += ", concept";
    } else {
        if (f.has("anchor_colour")) s.anchor_rgb = rgb_colour(f, "anchor_colour");
        allowed += ", anchor_colour";
    }
    f.finish(allowed);
    return s;
}

// Held-out data (docs/data.md): evaluation.inputs [N][D] and evaluation.labels
// {name: file of 0/1}; without evaluation.inputs a file-data run is evaluated
// on its training inputs, a concept being each label's probability >= 0.5.
void read_held_out(const ExperimentConfig& cfg, MapReader& f, EvaluationSettings& s) {
    const ConfigContext& ctx = cfg.context;
    if (!f.has("inputs")) {
        if (f.has("labels")) ctx.fail(f.node("labels"), "evaluation.labels", "needs evaluation.inputs (the samples they label)");
        if (!cfg.file_data()) return;
        s.inputs = cfg.inputs;
        for (const auto& l : cfg.labels) {
            ConceptLabels c{l.name, {}};
            for (float p : l.file->values) c.on.push_back(p >= 0.5f ? 1.0f : 0.0f);
            s.concepts.push_back(std::move(c));
        }
        return;
    }
    s.inputs = read_data_file(ctx, f.node("inputs"), "evaluation.inputs", cfg.base_dir, 2, DataValues::Finite);
    if (s.inputs->cols != cfg.model.input_dim)
        ctx.fail(f.node("inputs"), "evaluation.inputs",
                 fmt::format("'{}' has {} columns but the model reads {} inputs{}", s.inputs->path, s.inputs->cols,
                             cfg.model.input_dim, cfg.file_data() ? " (data.inputs' width)" : " (RGB)"));
    if (f.has("labels")) {
        MapReader lm(ctx, f.node("labels"), "evaluation.labels");
        for (const auto& kv : f.node("labels")) {
            const std::string name = key_text(ctx, kv.first, "evaluation.labels");
            lm.has(name);
            const auto file = read_data_file(ctx, kv.second, lm.path(name), cfg.base_dir, 1, DataValues::ZeroOne);
            if (file->rows != s.inputs->rows)
                ctx.fail(kv.second, lm.path(name),
                         fmt::format("'{}' has {} samples but evaluation.inputs '{}' has {}", file->path, file->rows,
                                     s.inputs->path, s.inputs->rows));
            s.concepts.push_back({name, file->values});
        }
        if (int(s.concepts.size()) > Limits::kMaxLabels)
            ctx.fail(f.node("labels"), "evaluation.labels", fmt::format("at most {} concepts", Limits::kMaxLabels));
    }
}

void check_select_by(const EvaluationSettings& s, const ConfigContext& ctx, const YAML::Node& node) {
    if (s.select_by.empty()) return;
    for (const auto& i : s.interventions)
        if (i.name == s.select_by) return;
    std::string names;
    for (const auto& i : s.interventions) names += (names.empty() ? "" : ", ") + i.name;
    ctx.fail(node, "evaluation.select_by", "'" + s.select_by + "' names no intervention (expected one of: " + names + ")");
}

}  // namespace

std::string to_string(InterventionKind kind) {
    switch (kind) {
        case InterventionKind::Suppression: return "suppression";
        case InterventionKind::Ablation: return "ablation";
        case InterventionKind::Pruning: return "pruning";
    }
    return "?";
}

double geometric_bound(InterventionKind kind) { return kind == InterventionKind::Suppression ? 0.25 : 1.0 / 3.0; }

EvaluationSettings default_evaluation(int latent, int grid) {
    EvaluationSettings s;
    s.grid = grid;
    InterventionSpec sup;
    sup.name = "suppressed";
    sup.kind = InterventionKind::Suppression;
    sup.suppression.direction = unit(latent, 0);
    sup.q = 2;
    InterventionSpec abl;
    abl.name = "ablated";
    abl.kind = InterventionKind::Ablation;
    abl.dims = {0};
    abl.q = 3;
    s.interventions = {sup, abl};
    s.select_by = "suppressed";
    return s;
}

EvaluationSettings evaluation_settings(const ExperimentConfig& cfg, int K) {
    EvaluationSettings s = default_evaluation(K, cfg.grid);
    if (!cfg.evaluation.IsDefined() || cfg.evaluation.IsNull()) {
        if (cfg.file_data()) {
            YAML::Node empty(YAML::NodeType::Map);
            MapReader f(cfg.context, empty, "evaluation");
            read_held_out(cfg, f, s);
        }
        return s;
    }
    const ConfigContext& ctx = cfg.context;
    MapReader f(ctx, cfg.evaluation, "evaluation");
    read_held_out(cfg, f, s);
    if (s.file_data())
        for (const char* key : {"anchor_colour", "rgb_grid", "hsv_grid"})
            if (f.has(key))
                ctx.fail(f.node(key), std::string("evaluation.") + key, "is a colour setting; this run is evaluated on evaluation.inputs");
    if (f.has("anchor_colour")) s.anchor_rgb = rgb_colour(f, "anchor_colour");
    s.rgb_grid = int_in(f, "rgb_grid", s.rgb_grid, 2, 256);
    if (f.has("hsv_grid")) {
        const auto v = numbers(f, "hsv_grid", 3, "[hues, saturations, values]");
        const int lo[3] = {1, 2, 2};
        for (int c = 0; c < 3; ++c) {
            const double x = v[size_t(c)];
            if (x != std::floor(x) || x < lo[c] || x > 360)
                ctx.fail(f.node("hsv_grid")[size_t(c)], "evaluation.hsv_grid." + std::to_string(c),
                         fmt::format("must be a whole number between {} and 360", lo[c]));
            s.hsv_grid[size_t(c)] = int(x);
        }
    }
    s.grids = f.get<bool>("grids", s.grids);
    if (f.has("interventions")) {
        const YAML::Node list = f.node("interventions");
        if (!list.IsSequence()) ctx.fail(list, "evaluation.interventions", "expected a list, got " + describe(list));
        s.interventions.clear();
        std::set<std::string> names;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string path = "evaluation.interventions." + std::to_string(i);
            auto spec = read_intervention(ctx, list[i], path, K, s.concepts, s.file_data());
            if (!names.insert(spec.name).second) ctx.fail(list[i]["name"], path + ".name", "'" + spec.name + "' is used twice");
            s.interventions.push_back(std::move(spec));
        }
        s.select_by = s.interventions.empty() ? "" : s.interventions.front().name;
    }
    s.select_by = f.get<std::string>("select_by", s.select_by);
    check_select_by(s, ctx, f.node("select_by"));
    f.finish("inputs, labels, anchor_colour, rgb_grid, hsv_grid, grids, interventions, select_by");
    return s;
}

InterventionSpec parse_intervention(const std::string& yaml_text, int K, const std::string& source,
                                    const std::vector<ConceptLabels>& concepts) {
    YAML::Node n;
    try {
        n = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source, "", "is not valid YAML: " + e.msg);
    }
    ConfigContext ctx;
    ctx.source = source;
    ctx.has_lines = false;
    refuse_duplicate_keys(ctx, n);
    return read_intervention(ctx, n, "intervention", K, concepts, !concepts.empty());
}

void add_intervention(EvaluationSettings& settings, InterventionSpec spec) {
    for (auto& existing : settings.interventions)
        if (existing.name == spec.name) {
            existing = std::move(spec);
            return;
        }
    settings.interventions.push_back(std::move(spec));
    if (settings.select_by.empty()) settings.select_by = settings.interventions.front().name;
}

// ---------------------------------------------------------------- colours and score

const std::vector<NamedColour>& named_colours() {
    static const std::vector<NamedColour> colours = [] {
        const char* hues[] = {"red", "orange", "yellow", "lime", "green", "teal",
                              "cyan", "azure", "blue", "purple", "magenta", "pink"};
        std::vector<NamedColour> c;
        for (int i = 0; i < 12; ++i) c.push_back({hues[i], hsv_to_rgb(float(i) / 12.0f, 1.0f, 1.0f)});
        const std::pair<const char*, float> grays[] = {
            {"black", 0.0f}, {"dark gray", 0.25f}, {"gray", 0.5f}, {"light gray", 0.75f}, {"white", 1.0f}};
        for (const auto& [name, v] : grays) c.push_back({name, {v, v, v}});
        return c;
    }();
    return colours;
}

std::array<float, 3> hsv_to_rgb(float h, float s, float v) {
    // Six sectors of 60 degrees; the hue's position inside its sector ramps
    // one channel while the other two hold v and v (1 - s).
    const float h6 = (h - std::floor(h)) * 6.0f;
    const int sector = std::min(5, int(h6));
    const float f = h6 - float(sector);
    const float p = v * (1.0f - s), q = v * (1.0f - s * f), t = v * (1.0f - s * (1.0f - f));
    switch (sector) {
        case 0: return {v, t, p};
        case 1: return {q, v, p};
        case 2: return {p, v, t};
        case 3: return {p, q, v};
        case 4: return {t, p, v};
        default: return {v, p, q};
    }
}

float similarity_to_anchor(const std::array<float, 3>& rgb, const std::array<float, 3>& anchor_rgb) {
    return anchor_similarity(rgb_to_hsv(rgb[0], rgb[1], rgb[2]), rgb_to_hsv(anchor_rgb[0], anchor_rgb[1], anchor_rgb[2]));
}

float colour_error(const float* output, const float* input, int channels) {
    float sum = 0;
    for (int c = 0; c < channels; ++c) sum += (output[c] - input[c]) * (output[c] - input[c]);
    return sum / float(channels);
}

double selectivity_score(const std::vector<float>& errors, const std::vector<float>& sims, double q) {
    if (errors.size() != sims.size() || errors.empty()) throw std::invalid_argument("selectivity_score: sizes differ");
    const size_t n = errors.size();
    std::vector<double> y(n);
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        y[i] = std::pow(double(sims[i]), q);
        mx += errors[i];
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double dx = errors[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    // A constant error (or similarity) carries no information about where
    // the damage falls: report no selectivity rather than NaN.
    if (sxx <= 0 || syy <= 0) return 0.0;
    const double r = sxy / std::sqrt(sxx * syy);
    return r * r;
}

// ---------------------------------------------------------------- evaluation

namespace {

// The HSV grid: hue i/H (i < H), saturation and value linspace(0, 1); [H][S][V][3].
void hsv_grid_points(const EvaluationSettings& s, std::vector<float>& hsv, std::vector<float>& rgb) {
    const auto [H, S, V] = s.hsv_grid;
    for (int h = 0; h < H; ++h)
        for (int si = 0; si < S; ++si)
            for (int vi = 0; vi < V; ++vi) {
                const float hh = float(h) / float(H), ss = float(si) / float(S - 1), vv = float(vi) / float(V - 1);
                hsv.insert(hsv.end(), {hh, ss, vv});
                const auto c = hsv_to_rgb(hh, ss, vv);
                rgb.insert(rgb.end(), c.begin(), c.end());
            }
}

// Every colour an evaluation runs through one model variant, concatenated.
struct Probe {
    std::vector<float> rgb;  // sample-major [n][3]
    int named = 0, anchor = 0, grid = 0, rgb_grid = 0, hsv_grid = 0;  // starting offsets
    int named_count = 0, grid_count = 0, rgb_grid_count = 0, hsv_grid_count = 0;
    std::vector<float> grid_similarity;  // sim of each training-grid colour
    std::vector<float> hsv;              // the HSV grid's coordinates, [H][S][V][3]
};

Probe make_probe(const EvaluationSettings& s) {
    Probe p;
    auto add = [&](const std::array<float, 3>& c) { p.rgb.insert(p.rgb.end(), c.begin(), c.end()); };
    p.named = 0;
    for (const auto& c : named_colours()) add(c.rgb);
    p.named_count = int(named_colours().size());
    p.anchor = p.named_count;
    add(s.anchor_rgb);
    p.grid = p.anchor + 1;
    const ColourSet grid = training_grid(s.grid);
    p.grid_count = grid.size();
    p.rgb.insert(p.rgb.end(), grid.rgb.begin(), grid.rgb.end());
    for (int i = 0; i < grid.size(); ++i)
        p.grid_similarity.push_back(similarity_to_anchor({grid.rgb[3 * size_t(i)], grid.rgb[3 * size_t(i) + 1], grid.rgb[3 * size_t(i) + 2]}, s.anchor_rgb));
    p.rgb_grid = p.grid + p.grid_count;
    p.hsv_grid = p.rgb_grid;
    if (!s.grids) return p;
    const ColourSet cube = training_grid(s.rgb_grid);
    p.rgb_grid_count = cube.size();
    p.rgb.insert(p.rgb.end(), cube.rgb.begin(), cube.rgb.end());
    p.hsv_grid = p.rgb_grid + p.rgb_grid_count;
    hsv_grid_points(s, p.hsv, p.rgb);
    p.hsv_grid_count = s.hsv_grid[0] * s.hsv_grid[1] * s.hsv_grid[2];
    return p;
}

Inference slice(const Inference& all, int start, int count) {
    Inference r;
    r.count = count;
    r.latent = all.latent;
    r.latents.assign(all.latents.begin() + std::ptrdiff_t(start) * all.latent,
                     all.latents.begin() + std::ptrdiff_t(start + count) * all.latent);
    r.outputs.assign(all.outputs.begin() + std::ptrdiff_t(start) * 3, all.outputs.begin() + std::ptrdiff_t(start + count) * 3);
    return r;
}

// Runs one variant over every probe colour; q > 0 also scores it.
VariantResult measure(const Model& model, const Probe& p, const EvaluationSettings& s, const Suppression* suppression,
                      double q, const std::optional<std::array<float, 3>>& own_anchor = std::nullopt) {
    const Inference all = infer(model, p.rgb, suppression);
    const int K = all.latent;
    VariantResult v;
    v.latent = K;
    for (int i = 0; i < p.named_count; ++i) {
        const size_t at = size_t(p.named + i);
        v.errors.push_back(colour_error(&all.outputs[3 * at], &p.rgb[3 * at], 3));
        v.latents.insert(v.latents.end(), all.latents.begin() + std::ptrdiff_t(at * K),
                         all.latents.begin() + std::ptrdiff_t((at + 1) * K));
    }
    v.anchor_error = colour_error(&all.outputs[3 * size_t(p.anchor)], &p.rgb[3 * size_t(p.anchor)], 3);
    std::vector<float> own_similarity;  // an intervention's own anchor colour: its score is of that colour
    if (own_anchor) {
        const std::vector<float> colour(own_anchor->begin(), own_anchor->end());
        v.anchor_error = colour_error(infer(model, colour, suppression).outputs.data(), colour.data(), 3);
        for (int i = 0; i < p.grid_count; ++i) {
            const float* c = &p.rgb[3 * size_t(p.grid + i)];
            own_similarity.push_back(similarity_to_anchor({c[0], c[1], c[2]}, *own_anchor));
        }
    }
    std::vector<float> grid_errors;
    double sum = 0;
    for (int i = 0; i < p.grid_count; ++i) {
        const size_t at = size_t(p.grid + i);
        grid_errors.push_back(colour_error(&all.outputs[3 * at], &p.rgb[3 * at], 3));
        sum += grid_errors.back();
    }
    v.mean_grid_error = sum / p.grid_count;
    v.score = q > 0 ? selectivity_score(grid_errors, own_anchor ? own_similarity : p.grid_similarity, q) : 0.0;
    if (s.grids) {
        v.rgb_grid = slice(all, p.rgb_grid, p.rgb_grid_count);
        v.hsv_grid = slice(all, p.hsv_grid, p.hsv_grid_count);
    }
    return v;
}

// A file-data run's variant: reconstruction MSE of every evaluation sample,
// averaged over each concept's samples (on) and the unlabelled ones (off).
VariantResult measure_held_out(const Model& model, const EvaluationSettings& s, const Suppression* suppression,
                               const InterventionSpec* spec) {
    const DataMatrix& x = *s.inputs;
    if (x.cols != model.shape.input_dim)
        throw ConfigError(x.path, "evaluation.inputs",
                          fmt::format("has {} columns but the model reads {} inputs", x.cols, model.shape.input_dim));
    VariantResult v;
    v.held_out = infer(model, x.values, suppression, false);
    v.latent = v.held_out.latent;
    const int N = x.rows, D = x.cols;
    std::vector<double> err(static_cast<size_t>(N));
    std::vector<bool> unlabelled(size_t(N), true);
    double sum = 0;
    for (int i = 0; i < N; ++i) {
        double e = 0;
        for (int d = 0; d < D; ++d) {
            const double diff = double(v.held_out.outputs[size_t(i) * D + d]) - double(x.values[size_t(i) * D + d]);
            e += diff * diff;
        }
        err[size_t(i)] = e / D;
        sum += err[size_t(i)];
        for (const auto& c : s.concepts) unlabelled[size_t(i)] = unlabelled[size_t(i)] && c.on[size_t(i)] == 0.0f;
    }
    v.mean_error = sum / N;
    double off = 0;
    int n_off = 0;
    for (int i = 0; i < N; ++i)
        if (unlabelled[size_t(i)]) off += err[size_t(i)], ++n_off;
    for (const auto& c : s.concepts) {
        ConceptError ce;
        for (int i = 0; i < N; ++i)
            if (c.on[size_t(i)] != 0.0f) ce.error_on += err[size_t(i)], ++ce.samples_on;
        ce.error_on = ce.samples_on ? ce.error_on / ce.samples_on : 0.0;
        ce.samples_off = n_off;
        ce.error_off = n_off ? off / n_off : 0.0;
        v.concepts.push_back(ce);
    }
    if (spec && !v.concepts.empty()) {
        // The intervention's concept: its damage ratio is the score, its error the "anchor" error.
        const ConceptError& mine = v.concepts[size_t(spec->concept_index)];
        v.score = mine.ratio();
        v.anchor_error = float(mine.error_on);
    }
    return v;
}

}  // namespace

EvaluationResult evaluate(const Model& model, const EvaluationSettings& settings) {
    EvaluationResult r;
    r.settings = settings;
    r.shape = model.shape;
    const bool files = settings.file_data();
    if (!files && model.shape.input_dim != 3)
        throw ConfigError("evaluation", "", fmt::format("the model reads {} inputs, not RGB colours: give evaluation.inputs "
                                                        "(held-out data, docs/data.md) to evaluate it", model.shape.input_dim));
    const Probe probe = files ? Probe{} : make_probe(settings);
    auto run = [&](const Model& m, const Suppression* sup, const InterventionSpec* spec) {
        if (files) return measure_held_out(m, settings, sup, spec);
        return spec ? measure(m, probe, settings, sup, spec->q, spec->anchor_rgb) : measure(m, probe, settings, sup, 0);
    };
    r.variants.push_back(run(model, nullptr, nullptr));
    for (const auto& spec : settings.interventions) {
        VariantResult v;
        switch (spec.kind) {
            case InterventionKind::Suppression:
                v = run(model, &spec.suppression, &spec);
                break;
            case InterventionKind::Ablation:
                v = run(ablate(model, spec.dims), nullptr, &spec);
                break;
            case InterventionKind::Pruning: {
                Model pruned = prune(model, spec.dims);
                v = run(pruned, nullptr, &spec);
                v.pruned = std::move(pruned);
                break;
            }
        }
        v.name = spec.name;
        v.baseline = false;
        v.spec = spec;
        r.variants.push_back(std::move(v));
    }
    return r;
}

// ---------------------------------------------------------------- outputs

std::string pruned_model_file(const std::string& intervention) {
    return std::string(kPrunedModelDir) + "/" + intervention + ".safetensors";
}

namespace {

nlohmann::ordered_json floats(const float* v, int n) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (int i = 0; i < n; ++i) a.push_back(double(v[i]));
    return a;
}

std::string npy_name(const std::string& set, const std::string& variant, const std::string& what) {
    return std::string(kEvaluationGridDir) + "/" + set + "." + variant + "." + what + ".npy";
}

}  // namespace

namespace {

nlohmann::ordered_json intervention_parameters(const InterventionSpec& spec) {
    nlohmann::ordered_json p;
    if (spec.kind == InterventionKind::Suppression) {
        p["direction"] = floats(spec.suppression.direction.data(), int(spec.suppression.direction.size()));
        p["falloff"] = spec.suppression.falloff;
        p["strength"] = spec.suppression.strength;
        p["power"] = spec.suppression.power;
    } else {
        p["dims"] = spec.dims;
    }
    return p;
}

// A ratio that may be infinite (no error off the concept) as JSON: null then.
nlohmann::ordered_json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); }

// File-data runs: per variant, each concept's error_on, error_off and ratio.
nlohmann::ordered_json held_out_json(const EvaluationResult& r, const std::string& model_source) {
    const auto& s = r.settings;
    nlohmann::ordered_json j;
    j["model"] = model_source;
    j["shape"] = {{"input_dim", r.shape.input_dim}, {"hidden", r.shape.hidden}, {"layers", r.shape.layers}, {"latent", r.shape.latent}};
    j["data"] = {{"inputs", s.inputs->path}, {"samples", s.inputs->rows}};
    if (r.diverged) j["diverged"] = *r.diverged;
    j["select_by"] = s.select_by;
    auto variant = [&](const VariantResult& v) {
        nlohmann::ordered_json o;
        o["name"] = v.name;
        o["kind"] = v.baseline ? "baseline" : to_string(v.spec.kind);
        if (!v.baseline) {
            o["parameters"] = intervention_parameters(v.spec);
            if (!s.concepts.empty()) o["concept"] = s.concepts[size_t(v.spec.concept_index)].name;
            o["score"] = finite_or_null(v.score);  // the concept's error_on / error_off
        }
        o["anchor"] = {{"error", double(v.anchor_error)}};
        o["mean_error"] = v.mean_error;
        o["latent"] = v.latent;
        nlohmann::ordered_json concepts = nlohmann::ordered_json::object();
        for (size_t c = 0; c < s.concepts.size(); ++c) {
            const ConceptError& e = v.concepts[c];
            concepts[s.concepts[c].name] = {{"error_on", e.error_on},    {"error_off", e.error_off},
                                            {"ratio", finite_or_null(e.ratio())}, {"samples_on", e.samples_on},
                                            {"samples_off", e.samples_off}};
        }
        o["concepts"] = concepts;
        if (s.grids)
            o["files"] = {{"held_out.latents", npy_name("held_out", v.name, "latents")},
                          {"held_out.outputs", npy_name("held_out", v.name, "outputs")}};
        if (!v.baseline && v.spec.kind == InterventionKind::Pruning) o["model_file"] = v.name + ".safetensors";
        return o;
    };
    j["baseline"] = variant(r.baseline());
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t i = 1; i < r.variants.size(); ++i) list.push_back(variant(r.variants[i]));
    j["interventions"] = list;
    return j;
}

std::string held_out_table(const EvaluationResult& r) {
    const auto& s = r.settings;
    std::string out = fmt::format("{:<22}", "concept");
    for (const auto& v : r.variants) out += fmt::format(" {:>12}", v.name);
    out += "\n";
    for (size_t c = 0; c < s.concepts.size(); ++c) {
        auto row = [&](const std::string& label, auto cell) {
            out += fmt::format("{:<22}", label);
            for (const auto& v : r.variants) out += fmt::format(" {:>12}", cell(v.concepts[c]));
            out += "\n";
        };
        const std::string& n = s.concepts[c].name;
        row(n + " error_on", [](const ConceptError& e) { return fmt::format("{:.5f}", e.error_on); });
        row(n + " error_off", [](const ConceptError& e) { return fmt::format("{:.5f}", e.error_off); });
        row(n + " ratio", [](const ConceptError& e) { return fmt::format("{:.2f}", e.ratio()); });
    }
    out += fmt::format("{:<22}", "mean error");
    for (const auto& v : r.variants) out += fmt::format(" {:>12.5f}", v.mean_error);
    out += "\n";
    return out;
}

}  // namespace

nlohmann::ordered_json evaluation_json(const EvaluationResult& r, const std::string& model_source) {
    if (r.settings.file_data()) return held_out_json(r, model_source);
    const auto& s = r.settings;
    const auto& colours = named_colours();
    nlohmann::ordered_json j;
    j["model"] = model_source;
    j["shape"] = {{"input_dim", r.shape.input_dim}, {"hidden", r.shape.hidden}, {"layers", r.shape.layers}, {"latent", r.shape.latent}};
    const Hsv a = rgb_to_hsv(s.anchor_rgb[0], s.anchor_rgb[1], s.anchor_rgb[2]);
    j["anchor_colour"] = {{"rgb", floats(s.anchor_rgb.data(), 3)}, {"hsv", {double(a.h), double(a.s), double(a.v)}}};
    j["grid"] = s.grid;
    j["select_by"] = s.select_by;
    if (r.diverged) j["diverged"] = *r.diverged;
    nlohmann::ordered_json cj = nlohmann::ordered_json::array();
    for (const auto& c : colours)
        cj.push_back({{"name", c.name}, {"rgb", floats(c.rgb.data(), 3)}, {"similarity", double(similarity_to_anchor(c.rgb, s.anchor_rgb))}});
    j["colours"] = cj;
    auto variant = [&](const VariantResult& v) {
        nlohmann::ordered_json o;
        o["name"] = v.name;
        o["kind"] = v.baseline ? "baseline" : to_string(v.spec.kind);
        if (!v.baseline) {
            o["parameters"] = intervention_parameters(v.spec);
            if (v.spec.anchor_rgb) o["anchor_colour"] = floats(v.spec.anchor_rgb->data(), 3);
            o["q"] = v.spec.q;
            o["score"] = v.score;
            o["anchor"] = {{"error", double(v.anchor_error)},
                           {"baseline_error", double(r.baseline().anchor_error)},
                           {"bound", geometric_bound(v.spec.kind)}};
        } else {
            o["anchor"] = {{"error", double(v.anchor_error)}};
        }
        o["mean_grid_error"] = v.mean_grid_error;
        o["latent"] = v.latent;
        nlohmann::ordered_json errors, latents;
        for (size_t i = 0; i < colours.size(); ++i) {
            errors[colours[i].name] = double(v.errors[i]);
            latents[colours[i].name] = floats(&v.latents[i * size_t(v.latent)], v.latent);
        }
        o["errors"] = errors;
        o["latents"] = latents;
        if (s.grids) {
            nlohmann::ordered_json files;
            for (const char* set : {"rgb_grid", "hsv_grid"})
                for (const char* what : {"latents", "outputs"}) files[std::string(set) + "." + what] = npy_name(set, v.name, what);
            o["files"] = files;
        }
        if (!v.baseline && v.spec.kind == InterventionKind::Pruning) o["model_file"] = pruned_model_file(v.name);
        return o;
    };
    j["baseline"] = variant(r.baseline());
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t i = 1; i < r.variants.size(); ++i) list.push_back(variant(r.variants[i]));
    j["interventions"] = list;
    if (s.grids) {
        j["grids"] = {{"rgb_grid", {{"size", s.rgb_grid}, {"inputs", std::string(kEvaluationGridDir) + "/rgb_grid.inputs.npy"}}},
                      {"hsv_grid",
                       {{"size", s.hsv_grid},
                        {"hsv", std::string(kEvaluationGridDir) + "/hsv_grid.hsv.npy"},
                        {"inputs", std::string(kEvaluationGridDir) + "/hsv_grid.inputs.npy"}}}};
    }
    return j;
}

std::string evaluation_table(const EvaluationResult& r) {
    if (r.settings.file_data()) return held_out_table(r);
    const auto& colours = named_colours();
    std::string out = fmt::format("{:<12}", "colour");
    for (const auto& v : r.variants) out += fmt::format(" {:>12}", v.name);
    out += "\n";
    for (size_t i = 0; i < colours.size(); ++i) {
        out += fmt::format("{:<12}", colours[i].name);
        for (const auto& v : r.variants) out += fmt::format(" {:>12.4f}", v.errors[i]);
        out += "\n";
    }
    auto row = [&](const char* label, auto cell) {
        out += fmt::format("{:<12}", label);
        for (const auto& v : r.variants) out += fmt::format(" {:>12}", v.baseline ? std::string("-") : cell(v));
        out += "\n";
    };
    row("score r^2", [](const VariantResult& v) { return fmt::format("{:.3f}", v.score); });
    row("  q", [](const VariantResult& v) { return fmt::format("{:g}", v.spec.q); });
    out += fmt::format("{:<12}", "anchor err");
    for (const auto& v : r.variants) out += fmt::format(" {:>12.4f}", v.anchor_error);
    out += "\n";
    row("  bound", [](const VariantResult& v) { return fmt::format("{:.4f}", geometric_bound(v.spec.kind)); });
    out += fmt::format("{:<12}", "mean grid");
    for (const auto& v : r.variants) out += fmt::format(" {:>12.4f}", v.mean_grid_error);
    out += "\n";
    return out;
}

void write_evaluation(const std::string& dir_text, const EvaluationResult& r, const std::string& model_source) {
    const fs::path dir(dir_text);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError("cannot create '" + dir.string() + "': " + ec.message());
    remove_stale_temporaries(dir.string());
    const auto& s = r.settings;
    if (s.grids && s.file_data()) {
        fs::create_directories(dir / kEvaluationGridDir, ec);
        if (ec) throw IoError("cannot create '" + (dir / kEvaluationGridDir).string() + "': " + ec.message());
        for (const auto& v : r.variants) {
            const int64_t N = v.held_out.count;
            save_npy((dir / npy_name("held_out", v.name, "latents")).string(), {N, int64_t(v.latent)}, v.held_out.latents);
            save_npy((dir / npy_name("held_out", v.name, "outputs")).string(), {N, int64_t(r.shape.input_dim)}, v.held_out.outputs);
        }
    } else if (s.grids) {
        fs::create_directories(dir / kEvaluationGridDir, ec);
        if (ec) throw IoError("cannot create '" + (dir / kEvaluationGridDir).string() + "': " + ec.message());
        const int n = s.rgb_grid;
        const auto [H, S, V] = s.hsv_grid;
        const ColourSet cube = training_grid(n);
        save_npy((dir / kEvaluationGridDir / "rgb_grid.inputs.npy").string(), {n, n, n, 3}, cube.rgb);
        std::vector<float> hsv, rgb;
        hsv_grid_points(s, hsv, rgb);
        save_npy((dir / kEvaluationGridDir / "hsv_grid.hsv.npy").string(), {H, S, V, 3}, hsv);
        save_npy((dir / kEvaluationGridDir / "hsv_grid.inputs.npy").string(), {H, S, V, 3}, rgb);
        for (const auto& v : r.variants) {
            const int64_t K = v.latent;
            save_npy((dir / npy_name("rgb_grid", v.name, "latents")).string(), {n, n, n, K}, v.rgb_grid.latents);
            save_npy((dir / npy_name("rgb_grid", v.name, "outputs")).string(), {n, n, n, 3}, v.rgb_grid.outputs);
            save_npy((dir / npy_name("hsv_grid", v.name, "latents")).string(), {H, S, V, K}, v.hsv_grid.latents);
            save_npy((dir / npy_name("hsv_grid", v.name, "outputs")).string(), {H, S, V, 3}, v.hsv_grid.outputs);
        }
    }
    for (const auto& v : r.variants)
        if (!v.baseline && v.spec.kind == InterventionKind::Pruning) {
            fs::create_directories(dir / kPrunedModelDir, ec);
            if (ec) throw IoError("cannot create '" + (dir / kPrunedModelDir).string() + "': " + ec.message());
            save_model((dir / pruned_model_file(v.name)).string(), v.pruned,
                       {{"pruned_from", model_source}, {"pruned_dims", nlohmann::json(v.spec.dims).dump()}});
        }
    // Last, so evaluation.json never names files that are not there yet (nor on disk: a commit point).
    commit_writes();
    write_file_atomic((dir / kEvaluationFile).string(), evaluation_json(r, model_source).dump(2) + "\n");
}

std::optional<bool> run_diverged(const std::string& run_dir) {
    const fs::path path = fs::path(run_dir) / "validation.json";
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    try {
        const auto v = nlohmann::json::parse(read_file(path.string()));
        if (v.contains("divergence")) return v.at("divergence").at("diverged").get<bool>();
    } catch (const std::exception&) {
        throw IoError(path.string() + ": not a validation log (its divergence field is unreadable)");
    }
    return std::nullopt;
}

EvaluationResult evaluate_run(const std::string& run_dir, const ExperimentConfig& cfg) {
    const std::string model_path = (fs::path(run_dir) / "model.safetensors").string();
    const Model model = load_model(model_path);
    EvaluationResult r = evaluate(model, evaluation_settings(cfg, model.shape.latent));
    r.diverged = run_diverged(run_dir);
    write_evaluation(run_dir, r, "model.safetensors");
    return r;
}

}  // namespace sca
