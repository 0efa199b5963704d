// sca paper: the paper's four setups over many seeds, as one markdown table.
#include <cstdio>

#include "host/cli/cli.hpp"
#include "host/io/thread_pool.hpp"
#include "host/sweep/paper.hpp"

namespace sca {

void add_paper_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("paper", "train many seeds of the paper's setups in parallel, evaluate, select, tabulate");
    auto o = std::make_shared<PaperOptions>();
    cmd->add_option("configs", o->configs, "experiment YAMLs (default: the four of experiments/)");
    cmd->add_option("--seeds,-n", o->seeds, "seeds 0..N-1 of each setup")->capture_default_str()->check(CLI::Range(1, 100000));
    cmd->add_option("--jobs,-j", o->jobs, "threads (default: every core)")->check(CLI::Range(1, kMaxJobs));
    cmd->add_option("--out,-o", o->out, "where the run directories go")->capture_default_str();
    cmd->add_option("--results", o->results, "markdown file whose paper-results section is replaced (e.g. docs/results.md)");
    cmd->add_flag("--quiet,-q", o->quiet, "print nothing but errors");
    cmd->callback([&action, o] {
        action = [o]() -> int {
            const std::string md = run_paper(*o);
            if (!o->quiet) std::printf("%s", md.c_str());
            return 0;
        };
    });
}

}  // namespace sca
