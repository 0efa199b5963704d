// sca collect DIR: a sweep's results as one CSV and a summary.
#include <cstdio>

#include "cli.hpp"
#include "sweep_collect.hpp"

namespace sca {

void add_collect_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("collect", "a sweep's runs in one table (CSV) with score distribution, Pareto front and best run");
    struct Args {
        std::string dir, csv, score;
        bool require_all = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("dir", a->dir, "the sweep's output folder (--out of sca sweep)")->required();
    cmd->add_option("--csv", a->csv, "where to write the table (default DIR/results.csv)");
    cmd->add_option("--score", a->score, "the intervention whose score counts (default: each run's select_by)");
    cmd->add_flag("--require-all", a->require_all, "exit 1 unless every planned run is finished");
    cmd->callback([&action, a] {
        action = [a]() -> int {
            const CollectResult r = collect_sweep({a->dir, a->csv, a->score});
            std::printf("%s", collect_summary(r).c_str());
            size_t finished = 0;
            for (const auto& g : r.groups) finished += g.finished;
            return a->require_all && finished != r.rows.size() ? 1 : 0;
        };
    });
}

}  // namespace sca
