#include "host/io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"

namespace sca {

static_assert(sizeof(float) == 4, "F32 tensors");

std::string encode_safetensors(const TensorFile& file) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();  // "{}" even with no tensors
    if (!file.metadata.empty()) {
        nlohmann::ordered_json meta = nlohmann::ordered_json::object();
        for (const auto& [k, v] : file.metadata) meta[k] = v;
        header["__metadata__"] = meta;
    }
    size_t offset = 0;
    for (const auto& [name, t] : file.tensors) {
        const size_t bytes = t.data.size() * 4;
        header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string json = header.dump();
    while ((json.size() + 8) % 8 != 0) json.push_back(' ');
    std::string out(8, '\0');
    const uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xff);
    out += json;
    for (const auto& [name, t] : file.tensors) {
        for (float v : t.data) {
            uint32_t bits;
            std::memcpy(&bits, &v, 4);
            for (int i = 0; i < 4; ++i) out.push_back(char((bits >> (8 * i)) & 0xff));
        }
    }
    return out;
}

TensorFile decode_safetensors(const std::string& bytes, const std::string& source) {
    auto bad = [&](const std::string& what) { return ConfigError(source, "", "not a valid safetensors file: " + what); };
    if (bytes.size() < 8) throw bad("shorter than its 8-byte header length");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[i])) << (8 * i);
    if (n > bytes.size() - 8 || n > (100u << 20)) throw bad("header length " + std::to_string(n) + " exceeds the file");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
    } catch (const nlohmann::json::exception& e) {
        throw bad(std::string("header is not JSON (") + e.what() + ")");
    }
    if (!header.is_object()) throw bad("header is not a JSON object");
    const size_t data_size = bytes.size() - 8 - n;
    const char* data = bytes.data() + 8 + n;
    TensorFile out;
    std::vector<std::pair<size_t, size_t>> spans;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) throw bad("__metadata__ is not an object");
            for (const auto& [k, v] : entry.items()) {
                if (!v.is_string()) throw bad("metadata '" + k + "' is not a string");
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
            throw bad("tensor '" + name + "' lacks dtype, shape or data_offsets");
        if (entry["dtype"] != "F32")
            throw bad("tensor '" + name + "' has dtype " + entry["dtype"].dump() + " (only F32 is supported)");
        const auto& shape = entry["shape"];
        const auto& offs = entry["data_offsets"];
        if (!shape.is_array() || !offs.is_array() || offs.size() != 2) throw bad("tensor '" + name + "' has a malformed shape or offsets");
        Tensor t;
        uint64_t count = 1;
        for (const auto& d : shape) {
            if (!d.is_number_unsigned()) throw bad("tensor '" + name + "' has a negative or non-integer dim");
            const uint64_t dim = d.get<uint64_t>();
            if (dim > (1ull << 32) || (dim && count > (1ull << 40) / dim)) throw bad("tensor '" + name + "' is too large");
            count *= dim;
            t.shape.push_back(int64_t(dim));
        }
        if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) throw bad("tensor '" + name + "' has bad offsets");
        const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
        if (begin > end || end > data_size) throw bad("tensor '" + name + "' lies outside the data (truncated file?)");
        if (end - begin != count * 4) throw bad("tensor '" + name + "' has " + std::to_string(end - begin) + " bytes for " + std::to_string(count) + " floats");
        spans.emplace_back(begin, end);
        t.data.resize(count);
        for (uint64_t i = 0; i < count; ++i) {
            uint32_t bits = 0;
            for (int b = 0; b < 4; ++b) bits |= uint32_t(uint8_t(data[begin + 4 * i + b])) << (8 * b);
            std::memcpy(&t.data[i], &bits, 4);
        }
        out.tensors[name] = std::move(t);
    }
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
        if (spans[i].first < spans[i - 1].second) throw bad("tensors overlap");
    return out;
}

void save_safetensors(const std::string& path, const TensorFile& file) {
    write_file_atomic(path, encode_safetensors(file));
}

TensorFile load_safetensors(const std::string& path) { return decode_safetensors(read_file(path), path); }

}  // namespace sca
