// Slurm: a sweep as a job array, one array task per shard, each running
// `sca sweep SWEEP --out DIR --shard $SLURM_ARRAY_TASK_ID/N`, then one job that
// runs `sca collect DIR` after the whole array (afterany: failed runs are listed too).
#pragma once
#include <string>

#include "sweep.hpp"

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

// Why `value` cannot be the Slurm setting `field` (partition, time, job_name,
// options) in an #SBATCH line, or empty when it can.
std::string slurm_value_problem(const std::string& field, const std::string& value);

// The path of the running executable.
std::string self_executable();

}  // namespace sca
