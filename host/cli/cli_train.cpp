// sca train CONFIG [key.path=value ...] [--out DIR] [--init RUN] | sca train --resume DIR
#include <cstdio>
#include <filesystem>

#include "host/cli/cli.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"

namespace sca {

namespace {

// A YAML single-quoted scalar: any path survives the override parser.
std::string yaml_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

}  // namespace

void add_train_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("train", "train one experiment (or resume a stopped run)");
    struct Args {
        std::vector<std::string> positional;
        std::string out, resume, backend, init;
        bool quiet = false, overwrite = false, no_eval = false;
        int stop_after = -1;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("config", args->positional, "CONFIG.yaml, then key.path=value overrides (e.g. seed=3)");
    cmd->add_option("--out,-o", args->out, "run directory to write (default: runs/<config name>)");
    cmd->add_option("--resume", args->resume, "continue the run in this directory");
    cmd->add_option("--init", args->init,
                    "fine-tune: start from this run's model (or a .safetensors file) instead of the seed's "
                    "initialization, with fresh optimizer state; the shape must match the config's (sets `init:`)");
    cmd->add_option("--backend", args->backend, "auto, cpu or cuda (overrides the config)");
    cmd->add_option("--stop-after", args->stop_after, "stop after this step, with a checkpoint")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--quiet,-q", args->quiet, "print nothing but errors");
    cmd->add_flag("--overwrite", args->overwrite, "replace the outputs of an existing run directory");
    cmd->add_flag("--no-eval", args->no_eval, "skip the evaluation of a finished run (see sca eval)");
    cmd->callback([&action, args] {
        action = [args]() -> int {
            TrainOptions o;
            o.out_dir = args->out;
            o.quiet = args->quiet;
            o.overwrite = args->overwrite;
            o.stop_after = args->stop_after;
            o.backend = args->backend;
            std::string table;
            if (!args->no_eval)
                o.on_finished = [&table](const std::string& dir) {
                    table = evaluation_table(evaluate_run(dir, load_experiment(dir + "/" + run_files::kConfig)));
                };
            RunSummary s;
            if (!args->resume.empty()) {
                if (!args->positional.empty()) throw CLI::ValidationError("--resume takes no CONFIG or overrides");
                if (!args->out.empty())
                    throw CLI::ValidationError("--resume continues the run in its own directory; it takes no --out (got '" +
                                               args->out + "')");
                if (args->overwrite) throw CLI::ValidationError("--resume continues a run; --overwrite starts a new one: give one of them");
                if (!args->init.empty()) throw CLI::ValidationError("--init starts a new run; --resume continues one (its config keeps its init)");
                s = resume_run(args->resume, o);
            } else {
                if (args->positional.empty()) throw CLI::ValidationError("CONFIG is required (or --resume DIR)");
                std::vector<std::string> overrides(args->positional.begin() + 1, args->positional.end());
                if (!args->init.empty()) overrides.push_back("init=" + yaml_quoted(std::filesystem::absolute(args->init).string()));
                const ExperimentConfig cfg = load_experiment(args->positional[0], overrides);
                if (o.out_dir.empty()) {
                    o.out_dir = "runs/" + std::filesystem::path(args->positional[0]).stem().string();
                    if (!o.quiet) std::fprintf(stderr, "writing the run to %s (choose with --out)\n", o.out_dir.c_str());
                }
                if (!args->no_eval) evaluation_settings(cfg, cfg.model.latent);  // a bad evaluation section fails before training
                s = train_run(cfg, o);
            }
            if (!o.quiet && !s.validation.empty())
                std::fprintf(stderr, "final validation: recon %.6g\n", s.validation.back().recon);
            if (!o.quiet) std::printf("%s", table.c_str());
            return 0;
        };
    });
}

}  // namespace sca
