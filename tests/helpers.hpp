// Small builders shared by the tests.
#pragma once
#include <string>

#include "host/config.hpp"

namespace sca::test {

// An experiment from inline YAML; `source` names it in error messages.
inline ExperimentConfig config_from(const std::string& yaml, const std::string& source = "inline.yaml") {
    return parse_experiment(yaml, source);
}

inline std::string experiment_path(const std::string& name) {
    return std::string(SCA_SOURCE_DIR) + "/experiments/" + name;
}

}  // namespace sca::test
