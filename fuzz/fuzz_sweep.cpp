// The sweep loader: parse_sweep, the expansion into runs, and for small
// sweeps the resolution of every run's config (what `sca sweep` does first).
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "host/sweep/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // Inside experiments/sweeps/ so `base: ../anchored.yaml` names a real experiment.
    const std::string source = "experiments/sweeps/fuzz.yaml";
    sca::fuzz::expect_config_errors_only([&] {
        const sca::SweepSpec spec = sca::parse_sweep(text, source);
        // Expansion is linear in the runs (tested up to the limit in sca_tests);
        // here it stays under 20,000 runs so each input takes well under the
        // fuzzer's timeout under ASan (a 519,519-run input took 17 s).
        if (sca::sweep_run_count(spec) > 20000) return;
        const auto runs = sca::expand_sweep(spec, false);
        sca::sweep_columns(spec);
        if (runs.size() <= 4) sca::expand_sweep(spec, true);
    });
    return 0;
}
