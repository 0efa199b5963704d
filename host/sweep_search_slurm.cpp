// A search's rungs on Slurm: the first incomplete rung as a job array, and one
// job after it that plans and submits the next rung (the search advances itself).
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "atomic_file.hpp"
#include "errors.hpp"
#include "sweep_search.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

// Single quotes for a shell word.
std::string shell_quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string sbatch(const std::string& args) {
    const char* env = std::getenv("SCA_SBATCH");
    const std::string cmd = std::string(env && *env ? env : "sbatch") + " --parsable " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + cmd);
    std::string out;
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), int(buf.size()), p)) out += buf.data();
    const int rc = ::pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (rc != 0) throw std::runtime_error("`" + cmd + "` failed: " + out);
    const std::string id = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    return id.substr(0, id.find(';'));
}

}  // namespace

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
    const std::string file = fs::absolute(spec.source).lexically_normal().string();
    const std::string name = (s.job_name.empty() ? fs::path(spec.source).stem().string() : s.job_name) + fmt::format("-rung{}", plan.rung);
    const fs::path dir = fs::path(out) / "slurm";
    fs::create_directories(dir);
    auto header = [&](const std::string& job, bool array) {
        std::string h = "#!/bin/bash\n";
        h += fmt::format("#SBATCH --job-name={}\n", job);
        if (array) h += fmt::format("#SBATCH --array=0-{}\n", plan.shards - 1);
        h += fmt::format("#SBATCH --output={}/{}\n", dir.string(), array ? "%x-%A_%a.out" : "%x-%j.out");
        h += fmt::format("#SBATCH --time={}\n", s.time);
        if (!s.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", s.partition);
        h += "#SBATCH --ntasks=1\n";
        if (array && s.gpus > 0) h += fmt::format("#SBATCH --gpus-per-task={}\n", s.gpus);
        if (s.cpus > 0) h += fmt::format("#SBATCH --cpus-per-task={}\n", s.cpus);
        for (const auto& o : s.options) h += "#SBATCH " + o + "\n";
        return h;
    };
    std::string array = header(name, true);
    array += fmt::format(
        "# Written by `sca search --slurm`: rung {} ({} runs) in {} shards; array task I runs shard I/{}.\n"
        "set -euo pipefail\n"
        "exec {} search {} --out {} --rung {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --jobs \"${{SLURM_CPUS_PER_TASK:-0}}\"\n",
        plan.rung, rung.runs, plan.shards, plan.shards, shell_quoted(sca), shell_quoted(file), shell_quoted(out), plan.rung, plan.shards);
    std::string advance = header(name + "-advance", false);
    advance += fmt::format("# Runs after rung {}'s array: ranks it and submits the next rung (nothing once the search is finished).\n"
                           "set -euo pipefail\n"
                           "exec {} search {} --out {} --slurm --submit\n",
                           plan.rung, shell_quoted(sca), shell_quoted(file), shell_quoted(out));
    plan.array_script = (dir / fmt::format("rung-{}.sbatch", plan.rung)).string();
    plan.advance_script = (dir / fmt::format("advance-{}.sbatch", plan.rung)).string();
    write_file_atomic(plan.array_script, array);
    write_file_atomic(plan.advance_script, advance);
    for (const auto& p : {plan.array_script, plan.advance_script})
        fs::permissions(p, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    return plan;
}

void submit_search_slurm(SearchSlurmPlan& plan) {
    if (plan.rung < 0) return;
    plan.array_job = sbatch(shell_quoted(plan.array_script));
    plan.advance_job = sbatch("--dependency=afterany:" + plan.array_job + " " + shell_quoted(plan.advance_script));
}

}  // namespace sca
