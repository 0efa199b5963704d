// Typed errors: each names where the problem is and what was expected.
#pragma once
#include <cerrno>
#include <filesystem>
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

// A std::filesystem error as one line a user can act on: the path and why,
// with a hint for the causes that read obscurely.
inline std::string describe_filesystem_error(const std::filesystem::filesystem_error& e) {
    std::string path = e.path1().string();
    if (!e.path2().empty()) path += "' or '" + e.path2().string();
    std::string hint;
    if (e.code().value() == ELOOP) hint = " (a symbolic link that points back at itself, directly or through others)";
    if (e.code().value() == ENAMETOOLONG) hint = " (a file or folder name longer than the file system allows, 255 bytes on most)";
    if (e.code().value() == ENOENT) hint = " (a missing folder on the way, or a symbolic link to nothing)";
    return "cannot use '" + path + "': " + e.code().message() + hint;
}

}  // namespace sca
