// Small builders shared by the tests.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "host/atomic_file.hpp"
#include "host/config.hpp"
#include "host/errors.hpp"
#include "host/run.hpp"

namespace sca::test {

// An experiment from inline YAML; `source` names it in error messages.
inline ExperimentConfig config_from(const std::string& yaml, const std::string& source = "inline.yaml") {
    return parse_experiment(yaml, source);
}

// A short experiment (T = 60): a run takes milliseconds.
inline const char* const kShortExperiment = R"(seed: 0
model: {latent: 4, hidden: 8, layers: 1}
data: {grid: 8, batch: 32}
labels:
  red: {function: redness, power: 8, scale: 0.08}
regularizers:
  - {name: separate, kind: separate, power: 100, shift: true}
  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0], labels: {red: 1}}
schedule:
  keyframes:
    - {step: 0, lr: 1.0e-8, anchor: 0.01}
    - {step: 10, lr: 0.01}
    - {step: 60, lr: 0.05, separate: 0.01, anchor: 0.1}
evaluation:
  anchor_colour: [1, 0, 0]
  interventions:
    - {name: ablated, kind: ablation, dims: [0]}
  select_by: ablated
)";

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
