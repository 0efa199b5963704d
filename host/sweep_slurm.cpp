#include "sweep_slurm.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "atomic_file.hpp"
#include "errors.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

// Single quotes for a shell word.
std::string shell_word(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string run_sbatch(const std::string& args) {
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
    // --parsable prints "jobid" or "jobid;cluster".
    const std::string id = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    return id.substr(0, id.find(';'));
}

}  // namespace

std::string self_executable() {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("sca") : p.string();
}

SlurmPlan write_slurm_scripts(const SweepSpec& spec, size_t runs, const std::string& out_in, const std::string& sca) {
    const SlurmSettings& s = spec.slurm;
    SlurmPlan plan;
    plan.shards = s.shards > 0 ? s.shards : int(std::min<size_t>(64, std::max<size_t>(1, (runs + 63) / 64)));
    plan.shards = int(std::min<size_t>(size_t(plan.shards), std::max<size_t>(runs, 1)));
    const std::string out = fs::absolute(out_in).lexically_normal().string();
    const std::string sweep = fs::absolute(spec.source).lexically_normal().string();
    const std::string name = s.job_name.empty() ? fs::path(spec.source).stem().string() : s.job_name;
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
        "# Written by `sca sweep --slurm`: {} runs in {} shards; array task I runs shard I/{}.\n"
        "# A rerun (or a requeued task) skips every run already marked finished.\n"
        "set -euo pipefail\n"
        "exec {} sweep {} --out {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --jobs \"${{SLURM_CPUS_PER_TASK:-0}}\"\n",
        runs, plan.shards, plan.shards, shell_word(sca), shell_word(sweep), shell_word(out), plan.shards);
    std::string collect = header(name + "-collect", false);
    collect += fmt::format("# Runs after the whole array (submitted with --dependency=afterany:ARRAY_JOB).\n"
                           "set -euo pipefail\n"
                           "exec {} collect {}\n",
                           shell_word(sca), shell_word(out));
    plan.array_script = (dir / "sweep.sbatch").string();
    plan.collect_script = (dir / "collect.sbatch").string();
    write_file_atomic(plan.array_script, array);
    write_file_atomic(plan.collect_script, collect);
    fs::permissions(plan.array_script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    fs::permissions(plan.collect_script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    return plan;
}

void submit_slurm(SlurmPlan& plan) {
    plan.array_job = run_sbatch(shell_word(plan.array_script));
    plan.collect_job = run_sbatch("--dependency=afterany:" + plan.array_job + " " + shell_word(plan.collect_script));
}

}  // namespace sca
