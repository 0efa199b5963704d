// Strict reading of YAML config sections: every value is checked for its type
// and range, every unknown key is reported, and every error names where the
// value came from (file:line, or the command-line override that set it). The
// experiment loader and the evaluation section share this one reader.
#pragma once
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cfloat>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "host/io/errors.hpp"

namespace sca {

// Where a key came from: the file and line, or the override that set it.
struct ConfigContext {
    std::string source;
    std::map<std::string, std::string> overrides;  // canonical path -> assignment text
    bool has_lines = true;  // false when the text is not a file (an --intervention flag)

    std::string where(const YAML::Node& node, const std::string& path) const {
        for (const auto& [p, text] : overrides)
            if (path == p || path.rfind(p + ".", 0) == 0) return "command-line override '" + text + "'";
        if (has_lines && node.IsDefined() && node.Mark().line >= 0)
            return source + ":" + std::to_string(node.Mark().line + 1);
        return source;
    }
    [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
        throw ConfigError(where(node, path), path, what);
    }
};

inline std::string join_path(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
}

inline std::string describe(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "nothing";
}

// A mapping key as text; YAML allows lists and mappings as keys (`? [a]: 1`),
// which no key here can be.
inline std::string key_text(const ConfigContext& ctx, const YAML::Node& key, const std::string& path) {
    if (!key.IsScalar()) ctx.fail(key, path, "expected a plain key, got " + describe(key));
    return key.Scalar();
}

// When set, every key path a MapReader looks up (present or not) is added
// here: the loader's own lookups enumerate the keys it accepts, which a test
// compares with docs/config.md. Null (nothing recorded) outside that test.
inline std::set<std::string>*& key_recorder() {
    static thread_local std::set<std::string>* recorder = nullptr;
    return recorder;
}

// YAML 1.2 core numbers, decimal only. yaml-cpp follows YAML 1.1 here and
// reads `010` as octal 8 and `0x10` as 16; a config that says 010 means ten
// or is a typo, so anything but a plain decimal is refused with a hint.
// Returns the error text, or nothing when `text` parsed into `out`.
template <class T>
std::optional<std::string> parse_decimal(const std::string& text, T& out) {
    // Shape check by hand (no std::regex: sweeps read millions of numbers).
    const size_t sign = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
    const std::string body = text.substr(sign);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (body.size() > 1 && body[0] == '0' && std::string("xXoObB").find(body[1]) != std::string::npos)
        return "'" + text + "' is not a decimal number (hex, octal and binary forms are not read; write it in decimal)";
    if (body.size() > 1 && body[0] == '0' && digit(body[1]))
        return "'" + text + "' has a leading zero (YAML 1.1 would read it as octal); write the decimal number without it";
    size_t i = 0, int_digits = 0, frac_digits = 0;
    while (i < body.size() && digit(body[i])) ++i, ++int_digits;
    const bool integral = int_digits > 0 && i == body.size();
    if constexpr (std::is_floating_point_v<T>) {
        if (body == ".inf" || body == ".Inf" || body == ".INF" || body == ".nan" || body == ".NaN" || body == ".NAN")
            return "expected a finite number, got '" + text + "'";
        if (i < body.size() && body[i] == '.')
            for (++i; i < body.size() && digit(body[i]); ++i) ++frac_digits;
        if (int_digits + frac_digits > 0 && i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
            size_t j = i + 1, exp_digits = 0;
            if (j < body.size() && (body[j] == '+' || body[j] == '-')) ++j;
            while (j < body.size() && digit(body[j])) ++j, ++exp_digits;
            if (exp_digits > 0) i = j;
        }
        if (int_digits + frac_digits == 0 || i != body.size()) return "expected a number, got '" + text + "'";
        double v = 0;
        const char* first = text.data() + (text[0] == '+' ? 1 : 0);
        const char* last = text.data() + text.size();
        const auto [end, ec] = std::from_chars(first, last, v);
        if (ec == std::errc::result_out_of_range || !std::isfinite(v))
            return "expected a finite number, got '" + text + "' (beyond the range of a double)";
        if (ec != std::errc() || end != last) return "expected a number, got '" + text + "'";
        out = T(v);
        return std::nullopt;
    } else {
        const std::string expected = std::is_unsigned_v<T> ? "a non-negative integer" : "an integer";
        if (!integral || (std::is_unsigned_v<T> && text[0] == '-')) return "expected " + expected + ", got '" + text + "'";
        T v{};
        const char* first = text.data() + (text[0] == '+' ? 1 : 0);
        const char* last = text.data() + text.size();
        const auto [end, ec] = std::from_chars(first, last, v);
        if (ec == std::errc::result_out_of_range) return "'" + text + "' is out of range";
        if (ec != std::errc() || end != last) return "expected " + expected + ", got '" + text + "'";
        out = v;
        return std::nullopt;
    }
}

// The first mapping key that appears twice anywhere below `node` (yaml-cpp
// keeps both and lookups see only one), with its dotted path.
inline std::optional<std::pair<YAML::Node, std::string>> duplicate_key(const YAML::Node& node, const std::string& path = "") {
    if (node.IsMap()) {
        std::set<std::string> seen;
        for (const auto& kv : node) {
            const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
            if (kv.first.IsScalar() && !seen.insert(k).second) return std::make_pair(YAML::Node(kv.first), join_path(path, k));
            if (auto d = duplicate_key(kv.second, join_path(path, k))) return d;
        }
    } else if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i)
            if (auto d = duplicate_key(node[i], join_path(path, std::to_string(i)))) return d;
    }
    return std::nullopt;
}

inline void refuse_duplicate_keys(const ConfigContext& ctx, const YAML::Node& root) {
    if (auto d = duplicate_key(root)) ctx.fail(d->first, d->second, "is given twice (each key may appear once)");
}

// A mapping read strictly: every key must be consumed or it is reported unknown.
class MapReader {
public:
    MapReader(const ConfigContext& ctx, const YAML::Node& node, std::string path)
        : ctx_(ctx), node_(node), path_(std::move(path)) {
        if (!node.IsMap()) ctx.fail(node, path_.empty() ? "(top level)" : path_, "expected a mapping, got " + describe(node));
    }
    bool has(const std::string& key) {
        see(key);
        return node_[key].IsDefined() && !node_[key].IsNull();
    }
    YAML::Node node(const std::string& key) {
        see(key);
        return node_[key];
    }
    const YAML::Node& self() const { return node_; }
    std::string path(const std::string& key) const { return join_path(path_, key); }
    const ConfigContext& ctx() const { return ctx_; }

    // A key given with no value (`seed:` or `seed: null`) is an error, not the default.
    bool given(const std::string& key) {
        see(key);
        const YAML::Node n = node_[key];
        if (!n.IsDefined()) return false;
        if (n.IsNull()) {
            YAML::Node at = n;  // an empty value's mark is the next token: name the key's line
            for (const auto& kv : node_)
                if (kv.first.IsScalar() && kv.first.Scalar() == key) at = kv.first;
            ctx_.fail(at, path(key), "has no value (remove the key to use the default)");
        }
        return true;
    }
    template <class T>
    T get(const std::string& key, T fallback) {
        return given(key) ? scalar<T>(key) : fallback;
    }
    template <class T>
    T require(const std::string& key, const std::string& expected) {
        if (!has(key)) ctx_.fail(node_, path(key), "is missing (expected " + expected + ")");
        return scalar<T>(key);
    }
    template <class T>
    T scalar(const std::string& key) {
        return as<T>(ctx_, node(key), path(key));
    }
    void finish(const std::string& allowed_hint) {
        for (const auto& kv : node_) {
            const std::string k = key_text(ctx_, kv.first, path_.empty() ? "(top level)" : path_);
            if (!seen_.count(k)) ctx_.fail(kv.first, path(k), "unknown key (expected one of: " + allowed_hint + ")");
        }
    }

    template <class T>
    static T as(const ConfigContext& ctx, const YAML::Node& n, const std::string& path) {
        const char* expected = std::is_same_v<T, bool>          ? "true or false"
                               : std::is_same_v<T, std::string> ? "a string"
                               : std::is_floating_point_v<T>    ? "a number"
                               : std::is_unsigned_v<T>          ? "a non-negative integer"
                                                                : "an integer";
        if (!n.IsScalar()) ctx.fail(n, path, std::string("expected ") + expected + ", got " + describe(n));
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
            T v{};
            if (auto error = parse_decimal<T>(n.Scalar(), v)) ctx.fail(n, path, *error);
            return v;
        } else {
            try {
                return n.as<T>();
            } catch (const YAML::BadConversion&) {
                ctx.fail(n, path, std::string("expected ") + expected + ", got " + describe(n));
            }
        }
    }

private:
    void see(const std::string& key) {
        seen_.insert(key);
        if (auto* recorder = key_recorder()) recorder->insert(path(key));
    }

    const ConfigContext& ctx_;
    YAML::Node node_;
    std::string path_;
    std::set<std::string> seen_;
};

// An optional integer in [lo, hi].
inline int int_in(MapReader& m, const std::string& key, int fallback, int lo, int hi) {
    const int v = m.get<int>(key, fallback);
    if (v < lo || v > hi)
        m.ctx().fail(m.node(key), m.path(key),
                     "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(v));
    return v;
}

// An optional number in [lo, hi].
inline double number_in(MapReader& m, const std::string& key, double fallback, double lo, double hi) {
    if (!m.given(key)) return fallback;
    const double v = m.scalar<double>(key);
    if (v < lo || v > hi) m.ctx().fail(m.node(key), m.path(key), fmt::format("must be between {} and {}, got {}", lo, hi, v));
    return v;
}

// A list of exactly `count` numbers; `what` describes it for the message.
inline std::vector<double> numbers(MapReader& m, const std::string& key, size_t count, const std::string& what) {
    const YAML::Node n = m.node(key);
    if (!n.IsSequence() || n.size() != count)
        m.ctx().fail(n.IsDefined() ? n : m.self(), m.path(key),
                     "expected " + what + ", got " + (n.IsSequence() ? std::to_string(n.size()) + " entries" : describe(n)));
    std::vector<double> v;
    for (size_t i = 0; i < n.size(); ++i)
        v.push_back(MapReader::as<double>(m.ctx(), n[i], m.path(key) + "." + std::to_string(i)));
    return v;
}

// A direction or point read as floats: every entry within float range; a
// direction (`nonzero`) also needs an entry that is a normal float, since a
// zero or subnormal-only vector has no usable unit direction.
inline void check_float_vector(const ConfigContext& ctx, const YAML::Node& node, const std::string& path,
                               const std::vector<double>& v, bool nonzero) {
    bool normal = false;
    for (size_t i = 0; i < v.size(); ++i) {
        if (std::fabs(v[i]) > double(FLT_MAX))
            ctx.fail(node, path + "." + std::to_string(i), fmt::format("{} is beyond the range of a float (at most {:g})", v[i], double(FLT_MAX)));
        normal = normal || std::fabs(v[i]) >= double(FLT_MIN);
    }
    if (nonzero && !normal)
        ctx.fail(node, path, fmt::format("must not be the zero vector (every entry is 0 or below {:g}, the smallest normal float)",
                                         double(FLT_MIN)));
}

}  // namespace sca
