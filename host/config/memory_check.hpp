// Before a CPU run allocates: does the machine have the memory the config's
// estimate (working_bytes) needs? The load-time limit (Limits::kMaxWorkingGiB)
// is the same everywhere; this one reads the machine the run starts on.
#pragma once
#include <string>

#include "host/config/config.hpp"

namespace sca {

// The message refusing a run that needs `need` bytes where `available` are
// free (empty when it fits), naming the estimate and what to reduce.
std::string memory_shortfall(double need, double available, int rows);

// /proc/meminfo's MemAvailable in bytes; a negative value where unknown.
double available_memory();

// Throws ConfigError (the config, key `model`) when the run would not fit.
void check_memory_for(const ExperimentConfig& cfg);

}  // namespace sca
