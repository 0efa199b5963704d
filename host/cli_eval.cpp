// sca eval RUN_DIR | sca eval CHECKPOINT [--config CONFIG] [--out DIR], with
// interventions from the config's evaluation section and the command line.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli.hpp"
#include "errors.hpp"
#include "evaluation.hpp"
#include "run.hpp"

namespace sca {

namespace fs = std::filesystem;

void add_eval_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("eval", "evaluate a trained model and its interventions (suppression, ablation, pruning)");
    struct Args {
        std::string target, config, out;
        std::vector<std::string> interventions, suppress, ablate, prune;
        bool only = false, quiet = false, no_grids = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("target", args->target, "a run directory, or a model .safetensors file")->required();
    cmd->add_option("--config,-c", args->config, "the experiment YAML (for a .safetensors target; default: the run's config.yaml)");
    cmd->add_option("--out,-o", args->out, "where to write evaluation.json and the NPY grids (default: the run directory; "
                                           "a bare checkpoint writes nothing without --out)");
    cmd->add_option("--intervention,-i", args->interventions,
                    "an intervention as YAML, e.g. '{name: half, kind: suppression, direction: [1,0,0,0], falloff: 0.5, power: 1}'")
        ->allow_extra_args(false);
    cmd->add_option("--suppress", args->suppress, "suppress along a direction, e.g. 1,0,0,0 (a0 = 0, b = 1, p = 0)")
        ->allow_extra_args(false);
    cmd->add_option("--ablate", args->ablate, "ablate latent dims, e.g. 0 or 0,2")
        ->allow_extra_args(false);
    cmd->add_option("--prune", args->prune, "prune latent dims, e.g. 0 (also writes the smaller model as <name>.safetensors)")
        ->allow_extra_args(false);
    cmd->add_flag("--only", args->only, "evaluate only the command line's interventions, not the config's");
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
            EvaluationResult r = evaluate(model, settings);
            if (fs::is_directory(target)) r.diverged = run_diverged(target.string());
            if (!out.empty()) {
                const std::string source = fs::is_directory(target) ? std::string(run_files::kModel) : fs::absolute(model_path).string();
                write_evaluation(out, r, source);
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
