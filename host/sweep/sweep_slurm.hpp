// Slurm: a sweep as a job array, one array task per shard, each running
// `sca sweep SWEEP --out DIR --shard $SLURM_ARRAY_TASK_ID/N`, then one job that
// runs `sca collect DIR` after the whole array (afterany: failed runs are listed too).
#pragma once
#include <filesystem>
#include <string>

#include "host/sweep/sweep.hpp"

namespace sca {

struct SlurmPlan {
    std::string array_script, collect_script;  // paths written under OUT/slurm/
    int shards = 1;
    std::string array_job, collect_job;        // job ids when submitted
};

// Writes both batch scripts (atomically). `sca_binary` is the absolute path of sca.
SlurmPlan write_slurm_scripts(const SweepSpec& spec, size_t runs, const std::string& out, const std::string& sca_binary);
// Submits the array, then the collect job depending on it. sbatch is $SCA_SBATCH or `sbatch` on PATH.
void submit_slurm(SlurmPlan& plan);

// What a generated Slurm script is made of, shared by `sca sweep --slurm` and
// `sca search --slurm`. The constructor validates every value that reaches a
// script (the slurm settings, --out, the sweep or search file, the sca path)
// and refuses what could add a line or a command.
class SlurmScriptWriter {
public:
    SlurmScriptWriter(const SlurmSettings& settings, const std::string& source_file, const std::string& out,
                      const std::string& sca_binary, int shards);
    // The #!/bin/bash line and the #SBATCH lines of one job (`array`: the job array of `shards` tasks).
    std::string header(const std::string& job, bool array) const;
    // Writes an executable script atomically.
    void write(const std::string& path, const std::string& text) const;

    std::string out, file, job_name;  // absolute --out and source file; a job name that needs no quoting
    std::filesystem::path dir;        // OUT/slurm
private:
    const SlurmSettings& s_;
    int shards_;
    std::string log_dir_;
};

// Single quotes for a shell word.
std::string shell_word(const std::string& s);
// Runs sbatch (or $SCA_SBATCH) --parsable ARGS; returns the job id.
std::string run_sbatch(const std::string& args);

// Why `value` cannot be the Slurm setting `field` (partition, time, job_name,
// options) in an #SBATCH line, or empty when it can.
std::string slurm_value_problem(const std::string& field, const std::string& value);

// The path of the running executable.
std::string self_executable();

}  // namespace sca
