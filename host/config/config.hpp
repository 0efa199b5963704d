// One experiment = one YAML file (see experiments/). Loading applies
// command-line overrides, validates every key strictly and resolves the
// schedule; any problem is a ConfigError naming the file, line and key.
#pragma once
#include <yaml-cpp/yaml.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "kernels/colour.hpp"
#include "kernels/regularizers.hpp"
#include "host/config/data_files.hpp"
#include "host/config/model_shape.hpp"
#include "host/config/schedule.hpp"
#include "host/io/yaml_reader.hpp"

namespace sca {

// Limits checked at load time (a config outside them is an error, not a crash).
struct Limits {
    static constexpr int kMaxLatent = sca::kMaxLatent;
    static constexpr int kMaxHidden = 4096;
    static constexpr int kMaxLayers = 16;
    static constexpr int kMaxGrid = 64;
    static constexpr int kMaxBatch = 65536;
    static constexpr int kMaxLabels = 16;
    static constexpr int kMaxRegularizers = 32;
    static constexpr int kMaxPower = 4096;
    static constexpr int kMaxInputDim = 4096;         // data.inputs columns
    static constexpr int kMaxValidationRows = 4096;   // data.inputs rows the validation loss reads
    // The CPU trainer keeps every layer's activations for max(batch,
    // validation set) rows, and the parameters, gradient and Adam moments; a
    // config whose estimate exceeds this is refused at load time (the same on
    // every machine), and a run whose estimate exceeds the machine's
    // available memory when it starts (memory_check.hpp).
    static constexpr double kMaxWorkingGiB = 64.0;
};

// Bytes the CPU trainer allocates for `rows` samples (an estimate within a
// few percent: inputs, pre-activations and GELU derivatives of every Linear
// layer, the loss buffers, and four floats per parameter: the parameters,
// the gradient and Adam's two moments).
double working_bytes(const ModelShape& shape, int rows);

// Where a label's per-sample probability comes from (docs/method.md §3, docs/data.md).
enum class LabelSource { Function, Similarity, File };

struct LabelSpec {
    std::string name;
    LabelFunction function = LabelFunction::Redness;  // source Function
    float power = 1.0f;
    float scale = 1.0f;
    LabelSource source = LabelSource::Function;
    std::array<float, 3> colour{1, 0, 0};    // Similarity: strength = HSV similarity to it
    std::shared_ptr<const DataMatrix> file;  // File: p per sample, [N] (power and scale not applied)
};

struct RegularizerSpec {
    std::string name;
    std::string kind;  // as written: separate, anchor, anti-anchor, ...
    RegParams params;
    std::vector<std::pair<int, float>> affinities;  // (label index, f); empty = every sample
};

struct ExperimentConfig {
    std::string source;  // the YAML file
    unsigned long long seed = 0;
    std::string backend = "auto";
    ModelShape model;
    int grid = 8;
    int batch = 64;
    std::shared_ptr<const DataMatrix> inputs;  // data.inputs [N][D]; null: the RGB grid
    std::string base_dir;                      // relative data paths resolve against it (the config's directory)
    std::vector<LabelSpec> labels;
    std::vector<RegularizerSpec> regularizers;
    Schedule schedule;
    int checkpoint_every = 0;  // 0: only at the end
    std::string init;          // fine-tuning: the model file training starts from; empty: init from the seed
    YAML::Node evaluation;     // as read (its marks give line numbers); validated by the evaluation module
    ConfigContext context;     // the file and the overrides, to place errors in `evaluation`
    YAML::Node document;       // the config as resolved: overrides applied, schedule inlined
    std::vector<std::string> warnings;

    int last_step() const { return schedule.last_step; }
    int validation_interval() const { return std::max(1, schedule.last_step / 10); }
    bool file_data() const { return inputs != nullptr; }
    // lr and each regularizer's weight at `step` (a regularizer never keyed has weight 1).
    float lr_at(int step) const;
    std::vector<float> weights_at(int step) const;
};

// Rows of the validation set: the RGB validation colours, or up to
// kMaxValidationRows of data.inputs (evenly strided).
int validation_row_count(const ExperimentConfig& cfg);

// Reads `path`, applies overrides ("key.path=value", value in YAML syntax).
ExperimentConfig load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});
ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source,
                                  const std::vector<std::string>& overrides = {});
// The same from a parsed tree, which the overrides modify. A tree without its
// file's marks (a YAML::Clone) gives messages without line numbers.
ExperimentConfig parse_experiment_tree(YAML::Node root, const std::string& source,
                                       const std::vector<std::string>& overrides = {});

// Sets one dotted key in a YAML tree. Sequence elements are addressed by
// index or, for lists of named maps (regularizers), by name. Returns the
// canonical dotted path (names replaced by indices).
std::string apply_override(YAML::Node root, const std::string& assignment, const std::string& source);

std::string to_yaml(const YAML::Node& node);

}  // namespace sca
