// Scratch sweep folders shared by the sweep and search tests.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "host/sweep/sweep_run.hpp"

namespace sca::test {

// A short anchored experiment (T = 60), so that a run takes milliseconds.
// `interventions` is the evaluation's list, one `    - {...}` line each.
inline std::string tiny_anchor_experiment(const std::string& interventions) {
    return R"(seed: 0
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
)" + interventions +
           "  select_by: ablated\n";
}

// An empty folder unique to this process holding `tiny.yaml`, removed afterwards.
struct SweepDir {
    std::filesystem::path path;
    SweepDir(const std::string& prefix, const std::string& name, const std::string& tiny_yaml) {
        path = std::filesystem::temp_directory_path() / (prefix + name + "-" + std::to_string(::getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
        std::ofstream(path / "tiny.yaml") << tiny_yaml;
    }
    ~SweepDir() { std::filesystem::remove_all(path); }
    SweepDir(const SweepDir&) = delete;
    SweepDir& operator=(const SweepDir&) = delete;
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

// A quiet CPU sweep of `file` into `out` on two threads.
inline SweepOptions quiet_cpu_sweep(const std::string& file, const std::string& out) {
    SweepOptions o;
    o.sweep_file = file;
    o.out = out;
    o.quiet = true;
    o.jobs = 2;
    o.backend = "cpu";
    return o;
}

}  // namespace sca::test
