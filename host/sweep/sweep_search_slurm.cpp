// A search's rungs on Slurm: the first incomplete rung as a job array, and one
// job after it that plans and submits the next rung (the search advances itself).
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/sweep/sweep_search.hpp"
#include "host/sweep/sweep_slurm.hpp"

namespace sca {

namespace fs = std::filesystem;


SearchSlurmPlan write_search_slurm(const SearchSpec& spec, const std::string& out_in, const std::string& sca) {
    SearchSlurmPlan plan;
    const std::string out = fs::absolute(out_in).lexically_normal().string();
    const SearchReport status = search_status(spec, out);
    if (!status.rungs.empty() && status.rungs.front().complete) write_search_json(spec, out, status);
    if (status.finished) return plan;
    const RungReport& rung = status.rungs.back();
    plan.rung = rung.rung;
    const SlurmSettings& s = spec.sweep.slurm;
    plan.shards = s.shards > 0 ? s.shards : int(std::min<size_t>(64, std::max<size_t>(1, (rung.runs + 63) / 64)));
    plan.shards = int(std::min<size_t>(size_t(plan.shards), std::max<size_t>(rung.runs, 1)));
    // The same validation and header as a sweep's scripts: nothing a user wrote becomes a command.
    const SlurmScriptWriter w(s, spec.source, out, sca, plan.shards);
    const std::string name = w.job_name + fmt::format("-rung{}", plan.rung);
    const fs::path& dir = w.dir;
    std::string array = w.header(name, true);
    array += fmt::format(
        "# Written by `sca search --slurm`: rung {} ({} runs) in {} shards; array task I runs shard I/{}.\n"
        "set -euo pipefail\n"
        "exec {} search {} --out {} --rung {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --jobs \"${{SLURM_CPUS_PER_TASK:-0}}\"\n",
        plan.rung, rung.runs, plan.shards, plan.shards, shell_word(sca), shell_word(w.file), shell_word(w.out), plan.rung, plan.shards);
    std::string advance = w.header(name + "-advance", false);
    advance += fmt::format("# Runs after rung {}'s array: ranks it and submits the next rung (nothing once the search is finished).\n"
                           "set -euo pipefail\n"
                           "exec {} search {} --out {} --slurm --submit\n",
                           plan.rung, shell_word(sca), shell_word(w.file), shell_word(w.out));
    plan.array_script = (dir / fmt::format("rung-{}.sbatch", plan.rung)).string();
    plan.advance_script = (dir / fmt::format("advance-{}.sbatch", plan.rung)).string();
    w.write(plan.array_script, array);
    w.write(plan.advance_script, advance);
    return plan;
}

void submit_search_slurm(SearchSlurmPlan& plan) {
    if (plan.rung < 0) return;
    plan.array_job = run_sbatch(shell_word(plan.array_script));
    plan.advance_job = run_sbatch("--dependency=afterany:" + plan.array_job + " " + shell_word(plan.advance_script));
}

}  // namespace sca
