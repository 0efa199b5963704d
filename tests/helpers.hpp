// Small builders shared by the tests.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "host/config.hpp"
#include "host/run.hpp"

namespace sca::test {

// An experiment from inline YAML; `source` names it in error messages.
inline ExperimentConfig config_from(const std::string& yaml, const std::string& source = "inline.yaml") {
    return parse_experiment(yaml, source);
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

}  // namespace sca::test
