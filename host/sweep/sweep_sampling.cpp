#include "host/sweep/sweep_sampling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/random/sobol.hpp>
#include <cmath>
#include <numeric>
#include <set>

#include "host/io/errors.hpp"
#include "kernels/philox.hpp"

namespace sca {

namespace {

std::string where(const std::string& source, const YAML::Node& node) {
    return node.IsDefined() && node.Mark().line >= 0 ? source + ":" + std::to_string(node.Mark().line + 1) : source;
}

// A uniform double in [0, 1) from the counter-based generator: (seed, a, b) -> value.
double philox_unit(uint64_t seed, uint32_t a, uint32_t b) {
    constexpr uint32_t kSampleStream = 0x53414d50u;  // "SAMP": never the data or init streams' counter
    const Philox4 r = philox4x32_10(a, b, kSampleStream, 0, uint32_t(seed), uint32_t(seed >> 32));
    return (double(r.v[0] >> 5) * 67108864.0 + double(r.v[1] >> 6)) / 9007199254740992.0;  // 53 bits
}

enum class Law { Uniform, LogUniform, Integer, Choice };

struct SampledKey {
    std::string key;
    Law law = Law::Uniform;
    double lo = 0, hi = 0;
    std::vector<std::string> choices;  // override text of each choice
};

std::string number_text(double v) { return fmt::format("{:.4g}", v); }

SampledKey parse_law(const std::string& key, const YAML::Node& node, const std::string& source, const std::string& path) {
    SampledKey k;
    k.key = key;
    const std::string expected = "expected one of {uniform: [lo, hi]}, {log-uniform: [lo, hi]}, {integer: [lo, hi]}, {choice: [v1, v2, ...]}";
    if (!node.IsMap() || node.size() != 1) throw ConfigError(where(source, node), path, expected);
    const std::string law = node.begin()->first.as<std::string>();
    const YAML::Node args = node.begin()->second;
    if (law == "choice") {
        k.law = Law::Choice;
        if (!args.IsSequence() || args.size() == 0) throw ConfigError(where(source, args), path + ".choice", "expected a non-empty list of values");
        for (const auto& v : args) {
            if (!v.IsScalar()) throw ConfigError(where(source, v), path + ".choice", "expected scalar values");
            k.choices.push_back(v.Scalar());
        }
        return k;
    }
    if (law == "uniform") k.law = Law::Uniform;
    else if (law == "log-uniform") k.law = Law::LogUniform;
    else if (law == "integer") k.law = Law::Integer;
    else throw ConfigError(where(source, node), path, "unknown law '" + law + "'; " + expected);
    if (!args.IsSequence() || args.size() != 2) throw ConfigError(where(source, args), path + "." + law, "expected [lo, hi]");
    try {
        k.lo = args[0].as<double>();
        k.hi = args[1].as<double>();
    } catch (const YAML::Exception&) {
        throw ConfigError(where(source, args), path + "." + law, "expected two numbers [lo, hi]");
    }
    if (!std::isfinite(k.lo) || !std::isfinite(k.hi) || !(k.lo < k.hi))
        throw ConfigError(where(source, args), path + "." + law, "expected finite numbers with lo < hi");
    if (k.law == Law::LogUniform && !(k.lo > 0))
        throw ConfigError(where(source, args), path + "." + law, "log-uniform needs 0 < lo");
    if (k.law == Law::Integer && (k.lo != std::floor(k.lo) || k.hi != std::floor(k.hi) || std::fabs(k.hi) > 1e9 || std::fabs(k.lo) > 1e9))
        throw ConfigError(where(source, args), path + "." + law, "integer needs whole numbers lo < hi (inclusive)");
    return k;
}

// One coordinate u in [0, 1) mapped through a key's law, as override text.
std::string value_at(const SampledKey& k, double u) {
    switch (k.law) {
        case Law::Uniform: return number_text(k.lo + u * (k.hi - k.lo));
        case Law::LogUniform: return number_text(std::exp(std::log(k.lo) + u * (std::log(k.hi) - std::log(k.lo))));
        case Law::Integer: {
            const double n = k.hi - k.lo + 1;
            return fmt::format("{}", (long long)std::min(k.hi, k.lo + std::floor(u * n)));
        }
        case Law::Choice: return k.choices[std::min(k.choices.size() - 1, size_t(u * double(k.choices.size())))];
    }
    return "";
}

}  // namespace

std::vector<std::vector<double>> unit_sample(const std::string& method, int count, int dims, uint64_t seed) {
    std::vector<std::vector<double>> points(static_cast<size_t>(count), std::vector<double>(static_cast<size_t>(dims)));
    if (method == "sobol") {
        // The sequence (Boost's direction numbers) shifted by a per-seed vector
        // modulo 1 (Cranley-Patterson): still low-discrepancy, and nested in count.
        boost::random::sobol sobol(static_cast<unsigned>(dims));
        std::vector<double> shift(static_cast<size_t>(dims));
        for (int d = 0; d < dims; ++d) shift[size_t(d)] = seed ? philox_unit(seed, uint32_t(d), 0xFFFFFFFFu) : 0.0;
        // Boost starts after the origin; with it first, every power-of-two prefix is a net.
        for (size_t i = 0; i < points.size(); ++i)
            for (int d = 0; d < dims; ++d) {
                const double u = (i ? double(sobol()) / 18446744073709551616.0 : 0.0) + shift[size_t(d)];
                points[i][size_t(d)] = u - std::floor(u);
            }
        return points;
    }
    // Latin hypercube: each dimension's count strata in a random order, a random point in each stratum.
    for (int d = 0; d < dims; ++d) {
        std::vector<uint32_t> order(static_cast<size_t>(count));
        std::iota(order.begin(), order.end(), 0u);
        for (size_t i = order.size(); i > 1; --i)  // Fisher-Yates on the counter-based stream
            std::swap(order[i - 1], order[size_t(philox_unit(seed, uint32_t(d), uint32_t(i)) * double(i))]);
        for (int i = 0; i < count; ++i)
            points[size_t(i)][size_t(d)] =
                (double(order[size_t(i)]) + philox_unit(seed, uint32_t(d), 0x80000000u + uint32_t(i))) / double(count);
    }
    return points;
}

SweepAxis parse_sample_axis(const YAML::Node& node, const std::string& source, const std::string& name) {
    SweepAxis axis;
    axis.where = where(source, node);
    if (!node.IsMap()) throw ConfigError(axis.where, name, "expected a map: count, method, seed, keys");
    int count = 0;
    uint64_t seed = 0;
    std::string method = "sobol";
    std::vector<SampledKey> keys;
    for (const auto& kv : node) {
        const std::string k = kv.first.as<std::string>();
        const YAML::Node v = kv.second;
        const std::string path = name + "." + k;
        if (k == "count") {
            try {
                count = v.as<int>();
            } catch (const YAML::Exception&) {
                count = 0;
            }
            if (count < 1 || count > 100000) throw ConfigError(where(source, v), path, "expected a number of points from 1 to 100000");
        } else if (k == "seed") {
            try {
                seed = v.as<uint64_t>();
            } catch (const YAML::Exception&) {
                throw ConfigError(where(source, v), path, "expected a non-negative integer");
            }
        } else if (k == "method") {
            method = v.IsScalar() ? v.Scalar() : "";
            if (method != "sobol" && method != "latin")
                throw ConfigError(where(source, v), path, "expected sobol or latin, got '" + method + "'");
        } else if (k == "keys") {
            if (!v.IsMap() || v.size() == 0) throw ConfigError(where(source, v), path, "expected a map of dotted keys to laws");
            for (const auto& law : v) {
                const std::string key = law.first.as<std::string>();
                check_sweep_key(key, where(source, law.first));
                keys.push_back(parse_law(key, law.second, source, path + "." + key));
            }
        } else {
            throw ConfigError(where(source, kv.first), path, "unknown key (expected count, method, seed or keys)");
        }
    }
    if (count == 0) throw ConfigError(axis.where, name + ".count", "is required (how many points to draw)");
    if (keys.empty()) throw ConfigError(axis.where, name + ".keys", "is required (the keys to draw and their laws)");
    for (const auto& k : keys) axis.keys.push_back(k.key);
    const auto points = unit_sample(method, count, int(keys.size()), seed);
    std::set<std::vector<std::string>> seen;  // a point that repeats an earlier one (integer or choice keys) is dropped
    for (const auto& p : points) {
        SweepAxisValue value;
        for (size_t d = 0; d < keys.size(); ++d) {
            const std::string text = value_at(keys[d], p[d]);
            value.assignments.push_back(keys[d].key + "=" + text);
            if (d) value.label += '+';
            value.label += sweep_value_label(text);
        }
        if (seen.insert(value.assignments).second) axis.values.push_back(std::move(value));
    }
    return axis;
}

}  // namespace sca
