// NPY (NumPy's .npy format). Written as version 1.0 float32, little-endian, C
// order (numpy.load reads our evaluation grids); read strictly (data files).
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
// Reads NPY versions 1-3 strictly: dtype <f4 or <f8 (converted to float), C
// order, data exactly the size the header says; throws ConfigError naming `source` otherwise.
NpyArray decode_npy(const std::string& bytes, const std::string& source);

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data);  // atomic
NpyArray load_npy(const std::string& path);

}  // namespace sca
