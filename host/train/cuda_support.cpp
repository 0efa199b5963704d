#include <fmt/format.h>

#include "host/train/cuda_bridge.hpp"

namespace sca {

std::string cuda_refusal(const ExperimentConfig& cfg) {
    if (cfg.file_data()) return "the CUDA backend trains only the RGB grid, not data from files (data.inputs)";
    if (cfg.model.input_dim != 3) return fmt::format("the CUDA backend trains only 3 inputs (model.input_dim is {})", cfg.model.input_dim);
    return "";
}

}  // namespace sca
