// sca search SEARCH.yaml --out DIR [--jobs J] [--rung R --shard I/N] [--slurm [--submit]]
#include <cstdio>

#include "host/cli/cli.hpp"
#include "host/sweep/sweep_run.hpp"
#include "host/sweep/sweep_search.hpp"
#include "host/sweep/sweep_slurm.hpp"

namespace sca {

void add_search_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("search", "race a sweep's configurations over seeds (successive halving), resumably");
    struct Args {
        std::string file, out, shard = "0/1", backend = "auto";
        int jobs = 0, max_runs = -1, rung = -1;
        bool quiet = false, slurm = false, submit = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("search", a->file, "the search file (a sweep of configurations and the racing schedule; see docs/sweeps.md)")->required();
    cmd->add_option("--out,-o", a->out, "output folder: OUT/runs/<id>/ per run, OUT/rung-<r>/ per rung, OUT/search.json")->required();
    cmd->add_option("--jobs,-j", a->jobs, "CPU threads (default: twice the cores)");
    cmd->add_option("--backend", a->backend, "auto (the GPU if present), cpu or cuda");
    cmd->add_option("--max-runs", a->max_runs, "stop after starting this many runs (rerun to go on)");
    cmd->add_option("--rung", a->rung, "train only this rung (earlier rungs must be complete); with --shard, one array task's part");
    cmd->add_option("--shard", a->shard, "with --rung: only shard I of N of that rung's runs, e.g. 0/4");
    cmd->add_flag("--quiet,-q", a->quiet, "no progress line");
    cmd->add_flag("--slurm", a->slurm, "write OUT/slurm/rung-R.sbatch (the next rung as a job array) and advance-R.sbatch");
    cmd->add_flag("--submit", a->submit, "with --slurm: submit both (the advance job submits the rung after)");
    cmd->callback([&action, a] {
        action = [a]() -> int {
            const SearchSpec spec = load_search(a->file);
            if (a->submit && !a->slurm) throw CLI::ValidationError("--submit goes with --slurm");
            if (a->shard != "0/1" && a->rung < 0) throw CLI::ValidationError("--shard goes with --rung");
            if (a->slurm) {
                SearchSlurmPlan plan = write_search_slurm(spec, a->out, self_executable());
                if (plan.rung < 0) {
                    std::printf("%s", search_summary(spec, search_status(spec, a->out)).c_str());
                    return 0;
                }
                std::printf("%s\n%s\n", plan.array_script.c_str(), plan.advance_script.c_str());
                std::fprintf(stderr, "rung %d in a %d-task job array\n", plan.rung, plan.shards);
                if (a->submit) {
                    submit_search_slurm(plan);
                    std::printf("array job %s, advance job %s\n", plan.array_job.c_str(), plan.advance_job.c_str());
                }
                return 0;
            }
            SearchOptions o;
            o.sweep.out = a->out;
            o.sweep.jobs = a->jobs;
            o.sweep.backend = a->backend;
            o.sweep.max_runs = a->max_runs;
            o.sweep.quiet = a->quiet;
            o.sweep.shard = parse_shard(a->shard);
            o.only_rung = a->rung;
            const SearchReport r = run_search(spec, o);
            std::printf("%s", search_summary(spec, r).c_str());
            if (!a->quiet) std::fprintf(stderr, "%zu runs trained in %.1f s\n", r.trained, r.seconds);
            return 0;
        };
    });
}

}  // namespace sca
