// Data from NPY files named in a config (docs/data.md): training inputs
// [N, D], label probabilities [N], held-out inputs and 0/1 labels. Relative
// paths resolve against the config file's directory; every problem is a
// ConfigError naming the key and the file.
#pragma once
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "host/io/yaml_reader.hpp"

namespace sca {

// A float matrix read from one file, sample-major [rows][cols] (cols = 1 for a vector).
struct DataMatrix {
    std::string path;  // as resolved (absolute)
    int rows = 0, cols = 0;
    std::vector<float> values;
};

// What a file's values must be.
enum class DataValues { Finite, Probability, ZeroOne };

// Files larger than this are refused (a config naming /dev/zero or a huge file by mistake).
inline constexpr unsigned long long kMaxDataFileBytes = 4ull << 30;

// `file` resolved against `base_dir` (unchanged when absolute), made absolute.
std::string resolve_data_path(const std::string& file, const std::string& base_dir);

// Reads the NPY file named at `key` (node: its value in the config) and checks
// its rank (1: a vector [N]; 2: a matrix [N, D]) and values.
std::shared_ptr<const DataMatrix> read_data_file(const ConfigContext& ctx, const YAML::Node& node, const std::string& key,
                                                 const std::string& base_dir, int rank, DataValues values);

// Decodes NPY bytes as read_data_file does (the fuzz target's entry): throws
// ConfigError naming `source` and `key`.
DataMatrix decode_data_file(const std::string& bytes, const std::string& source, const std::string& key, int rank,
                            DataValues values);

}  // namespace sca
