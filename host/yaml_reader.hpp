// Strict reading of YAML config sections: every value is checked for its type
// and range, every unknown key is reported, and every error names where the
// value came from (file:line, or the command-line override that set it). The
// experiment loader and the evaluation section share this one reader.
#pragma once
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "errors.hpp"

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

    template <class T>
    T get(const std::string& key, T fallback) {
        return has(key) ? scalar<T>(key) : fallback;
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
        try {
            T v = n.as<T>();
            if constexpr (std::is_floating_point_v<T>)
                if (!std::isfinite(v)) ctx.fail(n, path, "expected a finite number, got " + describe(n));
            return v;
        } catch (const YAML::BadConversion&) {
            ctx.fail(n, path, std::string("expected ") + expected + ", got " + describe(n));
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
    if (!m.has(key)) return fallback;
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

}  // namespace sca
