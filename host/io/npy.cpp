#include "host/io/npy.hpp"

#include <cstring>
#include <stdexcept>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"

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

namespace {

// The header is a Python dict literal with exactly the keys 'descr',
// 'fortran_order' and 'shape' (numpy's format spec); anything else is refused.
class HeaderParser {
public:
    explicit HeaderParser(const std::string& text) : s_(text) {}
    struct Problem : std::runtime_error {
        using std::runtime_error::runtime_error;
    };

    void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
        bool seen[3] = {false, false, false};
        expect('{');
        while (true) {
            skip();
            if (peek() == '}') break;
            const std::string key = quoted();
            expect(':');
            int which = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
            if (which < 0) fail_("unknown header key '" + key + "'");
            if (seen[which]) fail_("header key '" + key + "' appears twice");
            seen[which] = true;
            if (which == 0) descr = quoted();
            else if (which == 1) fortran = boolean();
            else shape = tuple();
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != '}') fail_("expected ',' or '}' in the header");
        }
        ++i_;
        skip();
        if (i_ != s_.size()) fail_("text after the header's closing '}'");
        if (!seen[0] || !seen[1] || !seen[2]) fail_("the header lacks 'descr', 'fortran_order' or 'shape'");
    }

private:
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    char peek() {
        if (i_ >= s_.size()) fail_("the header ends early");
        return s_[i_];
    }
    void expect(char c) {
        skip();
        if (peek() != c) fail_(std::string("expected '") + c + "' in the header");
        ++i_;
    }
    std::string quoted() {
        skip();
        const char q = peek();
        if (q != '\'' && q != '"') fail_("expected a quoted string in the header");
        const size_t end = s_.find(q, i_ + 1);
        if (end == std::string::npos) fail_("an unterminated string in the header");
        std::string v = s_.substr(i_ + 1, end - i_ - 1);
        i_ = end + 1;
        return v;
    }
    bool boolean() {
        skip();
        if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
        if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
        fail_("fortran_order is not True or False");
        return false;
    }
    std::vector<int64_t> tuple() {
        std::vector<int64_t> dims;
        expect('(');
        while (true) {
            skip();
            if (peek() == ')') break;
            if (peek() < '0' || peek() > '9') fail_("the shape holds something other than whole numbers");
            int64_t d = 0;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                if (d > (int64_t(1) << 40)) fail_("a shape dimension is too large");
                d = d * 10 + (s_[i_++] - '0');
            }
            if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2's long suffix
            dims.push_back(d);
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != ')') fail_("expected ',' or ')' in the shape");
        }
        ++i_;
        return dims;
    }

    [[noreturn]] static void fail_(const std::string& what) { throw Problem(what); }

    const std::string& s_;
    size_t i_ = 0;
};

}  // namespace

NpyArray decode_npy(const std::string& bytes, const std::string& source) {
    const auto fail = [&](const std::string& what) {
        throw ConfigError(source, "", "is not a readable NPY file (float32 or float64, C order): " + what);
    };
    if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) fail("bad magic (not an NPY file)");
    const int major = uint8_t(bytes[6]);
    if (major < 1 || major > 3 || bytes[7] != '\0') fail("unknown format version " + std::to_string(major));
    size_t len = 0, start = 10;
    if (major == 1) {
        len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
    } else {
        if (bytes.size() < 12) fail("truncated header");
        for (int b = 0; b < 4; ++b) len |= size_t(uint8_t(bytes[8 + b])) << (8 * b);
        start = 12;
    }
    if (bytes.size() < start + len) fail("truncated header");
    const std::string header = bytes.substr(start, len);
    std::string descr;
    bool fortran = false;
    NpyArray a;
    try {
        HeaderParser(header).parse(descr, fortran, a.shape);
    } catch (const HeaderParser::Problem& p) {
        fail(p.what());
    }
    if (descr != "<f4" && descr != "<f8")
        fail("dtype '" + descr + "' (expected '<f4' or '<f8': little-endian float32 or float64)");
    if (fortran) fail("fortran_order is True (save a C-ordered array: numpy.ascontiguousarray)");
    const size_t width = descr == "<f4" ? 4 : 8;
    size_t n = 1;
    for (int64_t d : a.shape) {
        if (d != 0 && n > (size_t(1) << 40) / size_t(d)) fail("the shape " + shape_text(a.shape) + " is too large");
        n *= size_t(d);
    }
    const size_t have = bytes.size() - start - len;
    if (have != width * n)
        fail("the header's shape " + shape_text(a.shape) + " needs " + std::to_string(width * n) +
             " bytes of data, the file has " + std::to_string(have));
    a.data.resize(n);
    const char* p = bytes.data() + start + len;
    for (size_t i = 0; i < n; ++i) {
        uint64_t bits = 0;
        for (size_t b = 0; b < width; ++b) bits |= uint64_t(uint8_t(p[width * i + b])) << (8 * b);
        if (width == 4) {
            const uint32_t b32 = uint32_t(bits);
            std::memcpy(&a.data[i], &b32, 4);
        } else {
            double d;
            std::memcpy(&d, &bits, 8);
            a.data[i] = float(d);
        }
    }
    return a;
}

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data) {
    write_file_atomic(path, encode_npy(shape, data));
}

NpyArray load_npy(const std::string& path) { return decode_npy(read_file(path), path); }

}  // namespace sca
