// sca collect DIR: a sweep's results as one CSV and a summary.
#include <cstdio>

#include "host/cli/cli.hpp"
#include <filesystem>

#include "host/io/errors.hpp"
#include "host/sweep/sweep_collect.hpp"
#include "host/sweep/sweep_configs.hpp"

namespace sca {

void add_collect_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("collect", "a sweep's runs in one table (CSV) with score distribution, Pareto front and best run");
    struct Args {
        std::string dir, csv, score, configs_csv, by = "p10";
        std::vector<double> band{0.84, 1.2};
        bool require_all = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("dir", a->dir, "the sweep's output folder (--out of sca sweep)")->required();
    cmd->add_option("--csv", a->csv, "where to write the table (default DIR/results.csv)");
    cmd->add_option("--score", a->score, "the intervention whose score counts (default: each run's select_by)");
    cmd->add_option("--configs-csv", a->configs_csv, "where to write the per-configuration table (default DIR/configs.csv)");
    cmd->add_option("--by", a->by, "the statistic that ranks configurations: min, p10 (default), p25, median or mean");
    cmd->add_option("--error-band", a->band, "eligible configurations' median anchor error, as fractions of the bound (default 0.84 1.2)")
        ->expected(2);
    cmd->add_flag("--require-all", a->require_all, "exit 1 unless every planned run is finished");
    cmd->callback([&action, a] {
        action = [a]() -> int {
            const CollectResult r = collect_sweep({a->dir, a->csv, a->score});
            std::printf("%s", collect_summary(r).c_str());
            ConfigRules rules;
            rules.statistic = a->by;
            rules.error_low = a->band[0];
            rules.error_high = a->band[1];
            if (!(rules.error_low <= rules.error_high)) throw ConfigError("--error-band", "", "expected LOW HIGH with LOW <= HIGH");
            ConfigTable table = group_configs(r, rules);
            write_configs_csv(table, a->configs_csv.empty() ? (std::filesystem::path(a->dir) / "configs.csv").string() : a->configs_csv);
            std::printf("%s", configs_summary(table).c_str());
            size_t finished = 0;
            for (const auto& g : r.groups) finished += g.finished;
            return a->require_all && finished != r.rows.size() ? 1 : 0;
        };
    });
}

}  // namespace sca
