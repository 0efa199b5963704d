// sca sweep SWEEP.yaml --out DIR [--shard I/N] [--jobs J] [--plan] [--slurm [--submit]]
#include <fmt/format.h>

#include <cstdio>

#include "host/cli/cli.hpp"
#include "host/io/thread_pool.hpp"
#include "host/io/errors.hpp"
#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_run.hpp"
#include "host/sweep/sweep_slurm.hpp"

namespace sca {

void add_sweep_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("sweep", "run every run of a sweep file (resumable), or write a Slurm job array for it");
    struct Args {
        std::string file, out, shard = "0/1", backend = "auto";
        int jobs = 0, max_runs = -1, gpu_group = 512;
        bool quiet = false, plan = false, slurm = false, submit = false, no_lanes = false;
        std::string partition, time, job_name;
        int gpus = -1, cpus = -1, shards = -1;
        std::vector<std::string> sbatch_options;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("sweep", a->file, "the sweep file (base experiment and axes; see docs/sweeps.md)")->required();
    cmd->add_option("--out,-o", a->out, "output folder: OUT/runs/<id>/ per run, OUT/sweep.json the plan");
    cmd->add_option("--shard", a->shard, "run only shard I of N (runs whose index mod N is I), e.g. 0/4");
    cmd->add_option("--jobs,-j", a->jobs, "CPU threads (default: twice the cores)")->check(CLI::Range(1, kMaxJobs));
    cmd->add_option("--backend", a->backend, "auto (the GPU if present), cpu or cuda");
    cmd->add_option("--max-runs", a->max_runs, "stop after starting this many runs (the rest stay for a rerun)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--gpu-group", a->gpu_group, "at most this many models per many-models GPU launch")->check(CLI::Range(1, 1 << 20));
    cmd->add_flag("--no-lanes", a->no_lanes, "CPU: train every run alone, not eight compatible runs per thread in SIMD lanes");
    cmd->add_flag("--plan", a->plan, "print the expanded runs (index, id, overrides) and train nothing");
    cmd->add_flag("--quiet,-q", a->quiet, "no progress line");
    cmd->add_flag("--slurm", a->slurm, "write OUT/slurm/sweep.sbatch (a job array over shards) and collect.sbatch");
    cmd->add_flag("--submit", a->submit, "with --slurm: submit both with sbatch (collect after the array)");
    cmd->add_option("--partition", a->partition, "with --slurm: the partition (overrides the file's slurm.partition)");
    cmd->add_option("--gpus", a->gpus, "with --slurm: GPUs per array task")->check(CLI::NonNegativeNumber);
    cmd->add_option("--cpus", a->cpus, "with --slurm: CPUs per array task")->check(CLI::NonNegativeNumber);
    cmd->add_option("--time", a->time, "with --slurm: time limit per array task, e.g. 00:30:00");
    cmd->add_option("--shards", a->shards, "with --slurm: array tasks (default: one per 64 runs, at most 64)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--job-name", a->job_name, "with --slurm: the job name");
    cmd->add_option("--sbatch-option", a->sbatch_options, "with --slurm: one more #SBATCH line, e.g. --mem=4G (repeatable)");
    cmd->callback([&action, a] {
        action = [a]() -> int {
            if (a->plan) {
                const SweepSpec spec = load_sweep(a->file);
                const Shard shard = parse_shard(a->shard);
                const auto runs = expand_sweep(spec, true);
                size_t n = 0;
                for (const auto& r : runs) {
                    if (!in_shard(r, shard)) continue;
                    ++n;
                    std::string ov;
                    for (const auto& o : r.axis_overrides) ov += " " + o;
                    std::printf("%d %s %s%s\n", r.index, r.id.c_str(), r.base.c_str(), ov.c_str());
                }
                std::fprintf(stderr, "%zu runs (%zu in shard %s)\n", runs.size(), n, a->shard.c_str());
                return 0;
            }
            if (a->out.empty()) throw CLI::ValidationError("--out DIR is required");
            if (a->submit && !a->slurm) throw CLI::ValidationError("--submit goes with --slurm");
            if (a->slurm) {
                SweepSpec spec = load_sweep(a->file);
                const size_t runs = expand_sweep(spec, true).size();  // a bad sweep fails here, not on the cluster
                SlurmSettings& s = spec.slurm;
                auto flag = [](const std::string& name, const std::string& field, const std::string& value) {
                    if (const std::string why = slurm_value_problem(field, value); !why.empty()) throw ConfigError(name, "", why);
                };
                if (!a->partition.empty()) flag("--partition", "partition", a->partition);
                if (!a->time.empty()) flag("--time", "time", a->time);
                if (!a->job_name.empty()) flag("--job-name", "job_name", a->job_name);
                for (const auto& o : a->sbatch_options) flag("--sbatch-option", "options", o);
                if (!a->partition.empty()) s.partition = a->partition;
                if (!a->time.empty()) s.time = a->time;
                if (!a->job_name.empty()) s.job_name = a->job_name;
                if (a->gpus >= 0) s.gpus = a->gpus;
                if (a->cpus >= 0) s.cpus = a->cpus;
                if (a->shards >= 0) s.shards = a->shards;
                for (const auto& o : a->sbatch_options) s.options.push_back(o);
                SlurmPlan plan = write_slurm_scripts(spec, runs, a->out, self_executable());
                std::printf("%s\n%s\n", plan.array_script.c_str(), plan.collect_script.c_str());
                std::fprintf(stderr, "%zu runs in a %d-task job array\n", runs, plan.shards);
                if (a->submit) {
                    submit_slurm(plan);
                    std::printf("array job %s, collect job %s\n", plan.array_job.c_str(), plan.collect_job.c_str());
                } else {
                    std::fprintf(stderr, "submit with: sbatch %s, then sbatch --dependency=afterany:<job> %s (or use --submit)\n",
                                 plan.array_script.c_str(), plan.collect_script.c_str());
                }
                return 0;
            }
            SweepOptions o;
            o.sweep_file = a->file;
            o.out = a->out;
            o.shard = parse_shard(a->shard);
            o.jobs = a->jobs;
            o.backend = a->backend;
            o.max_runs = a->max_runs;
            o.gpu_group = a->gpu_group;
            o.lanes = !a->no_lanes;
            o.quiet = a->quiet;
            const SweepReport r = run_sweep(o);
            for (const auto& f : r.failures) std::fprintf(stderr, "failed: %s\n", f.c_str());
            if (!a->quiet)
                std::fprintf(stderr, "%zu trained, %zu finished before, %zu failed, %zu of %zu in this shard; %.2f s; collect with: sca collect %s\n",
                             r.trained, r.skipped, r.failures.size(), r.trained + r.skipped, r.selected, r.seconds, a->out.c_str());
            return r.failures.empty() ? 0 : 1;
        };
    });
}

}  // namespace sca
