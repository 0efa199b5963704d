// Model and training-state files. model.safetensors holds exactly the
// PyTorch model's state_dict (names and [out, in] layouts of docs/method.md §1);
// optimizer.safetensors holds everything a resume needs, in one atomic file.
#pragma once
#include <string>
#include <vector>

#include "host/config/model_shape.hpp"
#include "host/io/safetensors.hpp"

namespace sca {

struct TrainState {
    std::vector<float> params, exp_avg, exp_avg_sq;
    int next_step = 0;  // the first step not yet trained
};

TensorFile model_file(const ModelShape& shape, const std::vector<float>& params,
                      std::map<std::string, std::string> metadata);
// Reads params for `shape`; every tensor must be present with the right shape
// and nothing else may be there (like load_state_dict(strict=True)).
std::vector<float> params_from(const TensorFile& file, const ModelShape& shape, const std::string& source);
// The shape a model file describes (input width, H, N, K from its tensors).
ModelShape shape_from(const TensorFile& file, const std::string& source);

void save_train_state(const std::string& path, const ModelShape& shape, const TrainState& state,
                      std::map<std::string, std::string> metadata);
// `metadata`, when given, receives the file's metadata (config_hash, log_hash, ...).
TrainState load_train_state(const std::string& path, const ModelShape& shape,
                            std::map<std::string, std::string>* metadata = nullptr);

}  // namespace sca
