// Typed errors: each names where the problem is and what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace sca {

// Bad user input: a config, schedule, override or checkpoint. `where` is
// "file:line" (or "file", or "command-line override ..."), `key` the dotted key.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string where, std::string key, const std::string& what)
        : std::runtime_error(format(where, key, what)), where_(std::move(where)), key_(std::move(key)) {}
    const std::string& where() const { return where_; }
    const std::string& key() const { return key_; }

private:
    static std::string format(const std::string& where, const std::string& key, const std::string& what) {
        std::string s = where;
        if (!key.empty()) s += (s.empty() ? "" : ": ") + key;
        return s + (s.empty() ? "" : ": ") + what;
    }
    std::string where_, key_;
};

// A file could not be read or written.
class IoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace sca
