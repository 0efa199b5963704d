// NPY (NumPy's .npy format, version 1.0): float32, little-endian, C order.
// Enough for numpy.load to read our evaluation grids without our code.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sca {

struct NpyArray {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

std::string encode_npy(const std::vector<int64_t>& shape, const std::vector<float>& data);
// Reads what encode_npy writes ('<f4', C order); throws ConfigError naming `source` otherwise.
NpyArray decode_npy(const std::string& bytes, const std::string& source);

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data);  // atomic
NpyArray load_npy(const std::string& path);

}  // namespace sca
