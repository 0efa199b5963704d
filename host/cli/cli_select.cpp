// sca select RUN_DIR...: the Pareto front of docs/method.md §8 and the best run.
#include <fmt/format.h>

#include <cstdio>

#include "host/cli/cli.hpp"
#include "host/eval/selection.hpp"

namespace sca {

void add_select_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("select", "the Pareto front of evaluated runs (val losses down, score up) and the best run");
    struct Args {
        std::vector<std::string> dirs;
        std::string score_by;
        bool best_only = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("runs", args->dirs, "evaluated run directories of one experiment")->required();
    cmd->add_option("--score", args->score_by, "the intervention whose score counts (default: the evaluation's select_by)");
    cmd->add_flag("--best", args->best_only, "print only the best run's directory");
    cmd->callback([&action, args] {
        action = [args]() -> int {
            std::vector<RunScores> runs;
            for (const auto& d : args->dirs) runs.push_back(read_run_scores(d, args->score_by));
            if (const auto differing = config_differences(args->dirs); !differing.empty())
                std::fprintf(stderr, "warning: %s\n", pooling_warning(differing, runs.size()).c_str());
            const Selection sel = select_runs(runs);
            if (args->best_only) {
                std::printf("%s\n", runs[sel.best].dir.c_str());
                return 0;
            }
            const auto& names = runs.front().objective_names;
            std::string header = fmt::format("{:<6} {:<5}", "front", "best");
            for (const auto& n : names) header += fmt::format(" {:>14}", n.size() > 14 ? n.substr(0, 14) : n);
            std::printf("%s  run\n", header.c_str());
            for (size_t i = 0; i < runs.size(); ++i) {
                const bool on_front = std::find(sel.front.begin(), sel.front.end(), i) != sel.front.end();
                std::string row = fmt::format("{:<6} {:<5}", on_front ? "*" : "", i == sel.best ? "best" : "");
                for (double v : runs[i].minimise) row += fmt::format(" {:>14.6g}", v);
                row += fmt::format(" {:>14.4f}", runs[i].score);
                std::printf("%s  %s\n", row.c_str(), runs[i].dir.c_str());
            }
            std::printf("%zu of %zu runs on the Pareto front; best: %s (%s %.4f)\n", sel.front.size(), runs.size(),
                        runs[sel.best].dir.c_str(), names.back().c_str(), runs[sel.best].score);
            return 0;
        };
    });
}

}  // namespace sca
