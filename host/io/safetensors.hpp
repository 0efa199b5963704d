// The safetensors format (8-byte little-endian header length, JSON header,
// raw little-endian data), F32 tensors only: what PyTorch's
// safetensors.torch.load_file reads.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sca {

struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct TensorFile {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> metadata;
};

std::string encode_safetensors(const TensorFile& file);
// Throws ConfigError naming `source` on anything malformed: sizes, offsets, dtype.
TensorFile decode_safetensors(const std::string& bytes, const std::string& source);

void save_safetensors(const std::string& path, const TensorFile& file);  // atomic
TensorFile load_safetensors(const std::string& path);

}  // namespace sca
