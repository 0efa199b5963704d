#include "host/config/memory_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "host/io/errors.hpp"

namespace sca {

std::string memory_shortfall(double need, double available, int rows) {
    if (available < 0 || need <= available) return "";
    const double gib = double(1u << 30);
    return fmt::format("needs about {:.1f} GiB (activations for {} rows, parameters, gradient and Adam moments) but "
                       "this machine has {:.1f} GiB available; reduce data.batch, model.hidden or model.layers",
                       need / gib, rows, available / gib);
}

double available_memory() {
    std::ifstream f("/proc/meminfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream in(line.substr(13));
            double kib = -1;
            in >> kib;
            return kib < 0 ? -1 : kib * 1024;
        }
    return -1;
}

void check_memory_for(const ExperimentConfig& cfg) {
    const int rows = std::max(cfg.batch, validation_row_count(cfg));
    const std::string problem = memory_shortfall(working_bytes(cfg.model, rows), available_memory(), rows);
    if (!problem.empty()) throw ConfigError(cfg.source, "model", problem);
}

}  // namespace sca
