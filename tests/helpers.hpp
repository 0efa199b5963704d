// Small builders shared by the tests.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "host/io/atomic_file.hpp"
#include "host/config/config.hpp"
#include "host/io/errors.hpp"
#include "host/train/run.hpp"

namespace sca::test {

// An experiment from inline YAML; `source` names it in error messages.
inline ExperimentConfig config_from(const std::string& yaml, const std::string& source = "inline.yaml") {
    return parse_experiment(yaml, source);
}

// A small separation-only experiment whose learning rate jumps to `lr_from_30`
// at step 30 (step interpolation), checkpointing every `checkpoint_every`.
inline std::string lr_jump_experiment(const std::string& lr_from_30, int checkpoint_every) {
    return "model: {latent: 4, hidden: 8, layers: 1}\n"
           "data: {grid: 4, batch: 16}\n"
           "regularizers:\n"
           "  - {name: separate, kind: separate}\n"
           "schedule:\n"
           "  properties: {lr: {interp: step}}\n"
           "  keyframes:\n"
           "    - {step: 0, lr: 0.01, separate: 0.01}\n"
           "    - {step: 30, lr: " + lr_from_30 + "}\n"
           "    - {step: 60, lr: " + lr_from_30 + "}\n"
           "checkpoint: {every: " + std::to_string(checkpoint_every) + "}\n";
}

inline std::string experiment_path(const std::string& name) {
    return std::string(SCA_SOURCE_DIR) + "/experiments/" + name;
}

// An empty scratch path in the temp directory, unique to this process, that
// does not exist yet (the trainer creates run directories itself). The space
// in the name keeps every test honest about quoting paths.
inline std::filesystem::path fresh_dir(const std::string& name) {
    const auto p = std::filesystem::temp_directory_path() / ("sca-test " + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(p);
    return p;
}

// Train options for a test: CPU backend, no progress output, into `dir`.
inline TrainOptions quiet_options(const std::filesystem::path& dir) {
    TrainOptions o;
    o.out_dir = dir.string();
    o.quiet = true;
    o.backend = "cpu";
    return o;
}

// The message of the ConfigError that loading `yaml` (as exp.yaml) throws, or "no error".
inline std::string config_error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    try {
        parse_experiment(yaml, "exp.yaml", overrides);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

// `s` with the first `from` replaced by `to` (which must be there).
inline std::string replaced(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    if (at == std::string::npos) throw std::logic_error("test text has no '" + from + "'");
    return s.replace(at, from.size(), to);
}

// Runs a shell command; returns its exit status, with stdout and stderr in `output`.
inline int shell(const std::string& command, std::string* output = nullptr) {
    const auto log = std::filesystem::temp_directory_path() / ("sca-test-shell-" + std::to_string(::getpid()) + ".log");
    const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
    if (output) *output = read_file(log.string());
    std::filesystem::remove(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A word for the shell: in single quotes.
inline std::string shell_quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace sca::test
