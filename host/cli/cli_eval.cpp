// sca eval RUN_DIR | sca eval CHECKPOINT [--config CONFIG] [--out DIR], with
// interventions from the config's evaluation section and the command line.
// `--only` on a run writes beside the run's evaluation (DIR/only-<names>/)
// unless --overwrite replaces it.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "host/io/atomic_file.hpp"
#include "host/cli/cli.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

// The NPY files an evaluation.json names (relative to its folder).
std::set<std::string> named_grid_files(const nlohmann::json& j) {
    std::set<std::string> files;
    auto add = [&](const nlohmann::json& v) {
        if (!v.is_string()) return;
        const std::string f = v.get<std::string>();
        if (f.size() > 4 && f.compare(f.size() - 4, 4, ".npy") == 0) files.insert(f);
    };
    auto add_all = [&](const nlohmann::json& object) {
        if (object.is_object())
            for (const auto& item : object.items()) add(item.value());
    };
    if (j.contains("baseline")) add_all(j["baseline"].value("files", nlohmann::json::object()));
    if (j.contains("interventions") && j["interventions"].is_array())
        for (const auto& v : j["interventions"]) add_all(v.value("files", nlohmann::json::object()));
    if (j.contains("grids") && j["grids"].is_object())
        for (const auto& grid : j["grids"].items()) add_all(grid.value());
    return files;
}

// After `dir`'s evaluation.json was replaced: removes the NPY grids the old
// one named and the new one does not (they described variants that are gone).
void remove_stale_grids(const fs::path& dir, const std::set<std::string>& old_files) {
    const auto now = named_grid_files(nlohmann::json::parse(read_file((dir / kEvaluationFile).string())));
    for (const auto& f : old_files) {
        const fs::path rel(f);
        bool inside = !rel.is_absolute();
        for (const auto& part : rel) inside = inside && part != "..";
        std::error_code ec;
        if (inside && !now.count(f)) fs::remove(dir / rel, ec);
    }
}

}  // namespace

void add_eval_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("eval", "evaluate a trained model and its interventions (suppression, ablation, pruning)");
    struct Args {
        std::string target, config, out;
        std::vector<std::string> interventions, suppress, ablate, prune;
        bool only = false, quiet = false, no_grids = false, overwrite = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("target", args->target, "a run directory, or a model .safetensors file")->required();
    cmd->add_option("--config,-c", args->config, "the experiment YAML (for a .safetensors target; default: the run's config.yaml)");
    cmd->add_option("--out,-o", args->out, "where to write evaluation.json and the NPY grids (default: the run directory; "
                                           "a bare checkpoint writes nothing without --out)");
    cmd->add_option("--intervention,-i", args->interventions,
                    "an intervention as YAML, e.g. '{name: half, kind: suppression, falloff: 0.5, power: 1}' (direction: e0 unless given)")
        ->allow_extra_args(false);
    cmd->add_option("--suppress", args->suppress, "suppress along a direction as wide as the latent, e.g. 1,0,0,0 (K = 4) or 1,0,0,0,0 (K = 5); a0 = 0, b = 1, p = 0")
        ->allow_extra_args(false);
    cmd->add_option("--ablate", args->ablate, "ablate latent dims, e.g. 0 or 0,2")
        ->allow_extra_args(false);
    cmd->add_option("--prune", args->prune, "prune latent dims, e.g. 0 (also writes the smaller model as pruned/<name>.safetensors)")
        ->allow_extra_args(false);
    cmd->add_flag("--only", args->only,
                  "evaluate only the command line's interventions, not the config's; on a run directory this writes "
                  "DIR/only-<names>/ and leaves the run's evaluation.json as it is (see --overwrite)");
    cmd->add_flag("--overwrite", args->overwrite,
                  "with --only: replace the run's evaluation.json instead (NPY grids of variants it no longer has are removed)");
    cmd->add_flag("--no-grids", args->no_grids, "skip the NPY grids");
    cmd->add_flag("--quiet,-q", args->quiet, "print nothing but errors");
    cmd->callback([&action, args] {
        action = [args]() -> int {
            const fs::path target(args->target);
            std::string model_path, out = args->out, config = args->config;
            if (fs::is_directory(target)) {
                model_path = (target / run_files::kModel).string();
                if (config.empty()) config = (target / run_files::kConfig).string();
                if (out.empty()) out = target.string();
            } else {
                model_path = target.string();
            }
            if (!fs::exists(model_path)) throw IoError("'" + model_path + "' does not exist (expected a run directory or a model file)");
            const Model model = load_model(model_path);
            const int K = model.shape.latent;
            EvaluationSettings settings;
            if (!config.empty()) {
                ExperimentConfig cfg = load_experiment(config);
                if (args->only && cfg.evaluation.IsMap()) {
                    // Their shapes may not fit this model (a pruned one): not read at all.
                    cfg.evaluation.remove("interventions");
                    cfg.evaluation.remove("select_by");
                }
                settings = evaluation_settings(cfg, K);
            } else {
                settings = default_evaluation(K, 8);
            }
            if (args->only) {
                settings.interventions.clear();
                settings.select_by.clear();
            }
            auto add = [&](const std::string& yaml, const std::string& flag) {
                add_intervention(settings, parse_intervention(yaml, K, flag));
            };
            // Shortcut names say what they do: ablate-0_2 ablates dims 0 and 2.
            auto tag = [](std::string list) {
                list.erase(std::remove(list.begin(), list.end(), ' '), list.end());
                std::replace(list.begin(), list.end(), ',', '_');
                return list;
            };
            for (const auto& text : args->interventions) add(text, "--intervention '" + text + "'");
            for (size_t i = 0; i < args->suppress.size(); ++i) {
                const std::string& d = args->suppress[i];
                add("{name: suppress-" + std::to_string(i) + ", kind: suppression, direction: [" + d + "]}", "--suppress '" + d + "'");
            }
            for (const auto& d : args->ablate)
                add("{name: ablate-" + tag(d) + ", kind: ablation, dims: [" + d + "]}", "--ablate '" + d + "'");
            for (const auto& d : args->prune)
                add("{name: prune-" + tag(d) + ", kind: pruning, dims: [" + d + "]}", "--prune '" + d + "'");
            if (args->no_grids) settings.grids = false;
            if (args->overwrite && !args->only) throw CLI::ValidationError("--overwrite goes with --only (a full evaluation always replaces the run's)");
            std::string source = fs::is_directory(target) ? std::string(run_files::kModel) : fs::absolute(model_path).string();
            if (args->only && args->out.empty() && fs::is_directory(target) && !args->overwrite) {
                std::string names;
                for (const auto& i : settings.interventions) names += (names.empty() ? "" : "+") + i.name;
                out = (target / ("only-" + (names.empty() ? std::string("baseline") : names))).string();
                source = "../" + source;
            }
            EvaluationResult r = evaluate(model, settings);
            if (fs::is_directory(target)) r.diverged = run_diverged(target.string());
            if (!out.empty()) {
                std::set<std::string> old_files;
                const fs::path old_json = fs::path(out) / kEvaluationFile;
                if (fs::exists(old_json)) {
                    try {
                        old_files = named_grid_files(nlohmann::json::parse(read_file(old_json.string())));
                    } catch (const nlohmann::json::exception&) {
                    }  // unreadable: nothing to clean up
                }
                write_evaluation(out, r, source);
                remove_stale_grids(out, old_files);
            }
            if (!args->quiet) {
                std::printf("%s", evaluation_table(r).c_str());
                if (!out.empty()) std::printf("wrote %s\n", (fs::path(out) / kEvaluationFile).string().c_str());
            }
            return 0;
        };
    });
}

}  // namespace sca
