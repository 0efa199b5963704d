#include "npy.hpp"

#include <cstring>
#include <stdexcept>

#include "atomic_file.hpp"
#include "errors.hpp"

namespace sca {

static_assert(sizeof(float) == 4, "float32 arrays");

namespace {

const char kMagic[] = "\x93NUMPY";

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");  // Python's one-tuple needs the comma
}

size_t element_count(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    return n;
}

}  // namespace

std::string encode_npy(const std::vector<int64_t>& shape, const std::vector<float>& data) {
    for (int64_t d : shape)
        if (d < 0) throw std::invalid_argument("encode_npy: negative dimension");
    if (element_count(shape) != data.size())
        throw std::invalid_argument("encode_npy: shape " + shape_text(shape) + " does not hold " +
                                    std::to_string(data.size()) + " values");
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
    // Magic (6) + version (2) + header length (2) + header, padded with spaces
    // and ending in a newline so the data starts at a multiple of 64 bytes.
    const size_t preamble = 10;
    size_t total = preamble + header.size() + 1;
    total = (total + 63) / 64 * 64;
    header.append(total - preamble - header.size() - 1, ' ');
    header.push_back('\n');
    std::string out(kMagic, 6);
    out.push_back('\x01');
    out.push_back('\x00');
    out.push_back(char(header.size() & 0xff));
    out.push_back(char((header.size() >> 8) & 0xff));
    out += header;
    const size_t start = out.size();
    out.resize(start + data.size() * 4);
    for (size_t i = 0; i < data.size(); ++i) {
        uint32_t bits;
        std::memcpy(&bits, &data[i], 4);
        for (int b = 0; b < 4; ++b) out[start + 4 * i + b] = char((bits >> (8 * b)) & 0xff);
    }
    return out;
}

NpyArray decode_npy(const std::string& bytes, const std::string& source) {
    auto fail = [&](const std::string& what) -> NpyArray { throw ConfigError(source, "", "not a float32 NPY file: " + what); };
    if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) return fail("bad magic");
    if (bytes[6] != '\x01') return fail("only version 1.0 is read");
    const size_t len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
    if (bytes.size() < 10 + len) return fail("truncated header");
    const std::string header = bytes.substr(10, len);
    if (header.find("'descr': '<f4'") == std::string::npos) return fail("dtype is not '<f4'");
    if (header.find("'fortran_order': False") == std::string::npos) return fail("not C order");
    const auto open = header.find("'shape': (");
    const auto close = header.find(')', open);
    if (open == std::string::npos || close == std::string::npos) return fail("no shape");
    NpyArray a;
    std::string dims = header.substr(open + 10, close - open - 10);
    size_t pos = 0;
    while (pos < dims.size()) {
        while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
        if (pos >= dims.size()) break;
        size_t used = 0;
        try {
            a.shape.push_back(std::stoll(dims.substr(pos), &used));
        } catch (...) {
            return fail("bad shape '" + dims + "'");
        }
        pos += used;
    }
    const size_t n = element_count(a.shape);
    if (bytes.size() != 10 + len + 4 * n) return fail("data size does not match the shape");
    a.data.resize(n);
    for (size_t i = 0; i < n; ++i) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; ++b) bits |= uint32_t(uint8_t(bytes[10 + len + 4 * i + b])) << (8 * b);
        std::memcpy(&a.data[i], &bits, 4);
    }
    return a;
}

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data) {
    write_file_atomic(path, encode_npy(shape, data));
}

NpyArray load_npy(const std::string& path) { return decode_npy(read_file(path), path); }

}  // namespace sca
