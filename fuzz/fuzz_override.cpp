// The command-line override parser: each input line is one `key.path=value`
// argument of `sca train CONFIG ...`, applied to the anchored experiment
// and validated as the trainer would (parse_experiment with overrides).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "fuzz_common.hpp"
#include "host/config/config.hpp"

namespace {

const std::string& base_config() {
    static const std::string text = [] {
        std::ifstream f("experiments/anchored.yaml");
        if (!f) {
            std::fprintf(stderr, "fuzz_override: run it from the project root (experiments/anchored.yaml)\n");
            std::exit(2);
        }
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }();
    return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> overrides;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line) && overrides.size() < 16;) overrides.push_back(line);
    const std::string source = "experiments/anchored.yaml";
    sca::fuzz::expect_config_errors_only([&] {
        // apply_override alone, on a fresh tree: it must never throw anything but ConfigError.
        YAML::Node root = YAML::Load(base_config());
        for (const auto& o : overrides) sca::apply_override(root, o, "fuzz");
        sca::parse_experiment(base_config(), source, overrides);
    });
    return 0;
}
