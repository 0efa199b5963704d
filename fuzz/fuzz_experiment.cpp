// The YAML experiment loader: parse_experiment, then what `sca train` does
// next with an accepted config (the evaluation section, the resolved config
// it writes as config.yaml, which a resume must read back).
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "host/config/config.hpp"
#include "host/eval/evaluation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // A source inside experiments/ so a relative schedule.csv can name the
    // project's dopesheets.
    const std::string source = "experiments/fuzz.yaml";
    sca::fuzz::expect_config_errors_only([&] {
        const sca::ExperimentConfig cfg = sca::parse_experiment(text, source);
        sca::evaluation_settings(cfg, cfg.model.latent);
        const std::string resolved = sca::to_yaml(cfg.document);
        try {
            sca::parse_experiment(resolved, source);
        } catch (const sca::ConfigError& e) {
            std::fprintf(stderr, "an accepted config does not read back after to_yaml: %s\n%s", e.what(),
                         resolved.c_str());
            std::abort();
        }
    });
    return 0;
}
