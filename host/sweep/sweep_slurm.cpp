#include "host/sweep/sweep_slurm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <regex>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

// A value as one printable line for a message (a newline shown as \n).
std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += char(c);
    }
    return out;
}

bool has_control(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return (unsigned char)c < 0x20 || c == 0x7f; });
}

// A path inside an #SBATCH line (sbatch, not bash, reads it): plain when it
// holds only ordinary characters, in double quotes when it has spaces; a
// quote, backslash or '%' (Slurm's file-name patterns) cannot be written.
std::string sbatch_path(const std::string& path) {
    static const std::regex plain(R"(^[A-Za-z0-9_./+@:,=-]+$)");
    if (std::regex_match(path, plain)) return path;
    if (path.find_first_of("\"'%`$#") != std::string::npos || has_control(path))
        throw ConfigError("--out", "", "'" + printable(path) + "' cannot be written into an #SBATCH line (it contains a quote, "
                                       "backslash, '%', '$', '#' or a control character); choose another folder for --slurm");
    return "\"" + path + "\"";
}

void check_script_path(const std::string& what, const std::string& path) {
    if (has_control(path))
        throw ConfigError(printable(what), "", "'" + printable(path) + "' contains a control character (a newline?); it cannot go into a Slurm script");
}

void check_settings(const SlurmSettings& s, const std::string& where) {
    auto check = [&](const std::string& field, const std::string& value) {
        if (const std::string why = slurm_value_problem(field, value); !why.empty()) throw ConfigError(where, "slurm." + field, why);
    };
    check("partition", s.partition);
    check("time", s.time);
    check("job_name", s.job_name);
    for (const auto& o : s.options) check("options", o);
}

}  // namespace

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

std::string slurm_value_problem(const std::string& field, const std::string& value) {
    // Each value becomes part of an #SBATCH line: one line, no shell syntax.
    static const std::regex partition(R"(^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$)");
    static const std::regex time(R"(^(\d{1,9}-\d{1,9}(:\d{1,9}){0,2}|\d{1,9}(:\d{1,9}){0,2}|UNLIMITED|INFINITE|unlimited|infinite)$)");
    static const std::regex job_name(R"(^[A-Za-z0-9_.+-]{1,128}$)");
    static const std::regex option(R"(^--?[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9_.,:/@%+=|&*\[\]-]*)?$)");
    const std::string shown = "'" + printable(value) + "'";
    if (field == "partition") {
        if (!value.empty() && !std::regex_match(value, partition))
            return shown + " is not a partition name (letters, digits, '_', '.', '-'; several separated by commas)";
    } else if (field == "time") {
        if (!std::regex_match(value, time))
            return shown + " is not a Slurm time limit (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)";
    } else if (field == "job_name") {
        if (!value.empty() && !std::regex_match(value, job_name))
            return shown + " is not a usable job name (1-128 letters, digits, '_', '.', '+', '-')";
    } else if (field == "options") {
        if (!std::regex_match(value, option))
            return shown + " is not an sbatch option (it must start with -, like --mem=4G; no quotes, '$', '`', ';', '#', "
                           "backslashes or line breaks)";
    }
    return "";
}

std::string self_executable() {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("sca") : p.string();
}

SlurmScriptWriter::SlurmScriptWriter(const SlurmSettings& settings, const std::string& source, const std::string& out_in,
                                     const std::string& sca, int shards)
    : s_(settings), shards_(shards) {
    check_settings(s_, source);
    out = fs::absolute(out_in).lexically_normal().string();
    file = fs::absolute(source).lexically_normal().string();
    check_script_path("--out", out);
    check_script_path(source, file);
    check_script_path("sca", sca);
    job_name = s_.job_name;
    if (job_name.empty()) {  // the file's stem, reduced to what a job name may hold
        for (char c : fs::path(source).stem().string())
            job_name += std::isalnum((unsigned char)c) || c == '_' || c == '.' || c == '+' || c == '-' ? c : '_';
        if (job_name.empty() || job_name.size() > 128) job_name = "sca-sweep";
    }
    dir = fs::path(out) / "slurm";
    log_dir_ = sbatch_path(dir.string());
    fs::create_directories(dir);
}

std::string SlurmScriptWriter::header(const std::string& job, bool array) const {
    std::string h = "#!/bin/bash\n";
    h += fmt::format("#SBATCH --job-name={}\n", job);
    if (array) h += fmt::format("#SBATCH --array=0-{}\n", shards_ - 1);
    const std::string log = array ? "%x-%A_%a.out" : "%x-%j.out";
    h += "#SBATCH --output=" + (log_dir_.back() == '"' ? log_dir_.substr(0, log_dir_.size() - 1) + "/" + log + "\"" : log_dir_ + "/" + log) + "\n";
    h += fmt::format("#SBATCH --time={}\n", s_.time);
    if (!s_.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", s_.partition);
    h += "#SBATCH --ntasks=1\n";
    if (array && s_.gpus > 0) h += fmt::format("#SBATCH --gpus-per-task={}\n", s_.gpus);
    if (s_.cpus > 0) h += fmt::format("#SBATCH --cpus-per-task={}\n", s_.cpus);
    for (const auto& o : s_.options) h += "#SBATCH " + o + "\n";
    return h;
}

void SlurmScriptWriter::write(const std::string& path, const std::string& text) const {
    write_file_atomic(path, text);
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
}

SlurmPlan write_slurm_scripts(const SweepSpec& spec, size_t runs, const std::string& out_in, const std::string& sca) {
    const SlurmSettings& s = spec.slurm;
    SlurmPlan plan;
    plan.shards = s.shards > 0 ? s.shards : int(std::min<size_t>(64, std::max<size_t>(1, (runs + 63) / 64)));
    plan.shards = int(std::min<size_t>(size_t(plan.shards), std::max<size_t>(runs, 1)));
    const SlurmScriptWriter w(s, spec.source, out_in, sca, plan.shards);
    std::string array = w.header(w.job_name, true);
    array += fmt::format(
        "# Written by `sca sweep --slurm`: {} runs in {} shards; array task I runs shard I/{}.\n"
        "# A rerun (or a requeued task) skips every run already marked finished.\n"
        "set -euo pipefail\n"
        "exec {} sweep {} --out {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --jobs \"${{SLURM_CPUS_PER_TASK:-0}}\"\n",
        runs, plan.shards, plan.shards, shell_word(sca), shell_word(w.file), shell_word(w.out), plan.shards);
    std::string collect = w.header(w.job_name + "-collect", false);
    collect += fmt::format("# Runs after the whole array (submitted with --dependency=afterany:ARRAY_JOB).\n"
                           "set -euo pipefail\n"
                           "exec {} collect {}\n",
                           shell_word(sca), shell_word(w.out));
    plan.array_script = (w.dir / "sweep.sbatch").string();
    plan.collect_script = (w.dir / "collect.sbatch").string();
    w.write(plan.array_script, array);
    w.write(plan.collect_script, collect);
    return plan;
}

void submit_slurm(SlurmPlan& plan) {
    plan.array_job = run_sbatch(shell_word(plan.array_script));
    plan.collect_job = run_sbatch("--dependency=afterany:" + plan.array_job + " " + shell_word(plan.collect_script));
}

}  // namespace sca
