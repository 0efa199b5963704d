// The CSV dopesheet reader (schedule.csv): parse_dopesheet_csv, then every
// property's value at a few steps of the resolved schedule.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "host/config/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    sca::fuzz::expect_config_errors_only([&] {
        const sca::Schedule s = sca::parse_dopesheet_csv(text, "fuzz.csv");
        for (const auto& t : s.tracks)
            for (int step : {0, 1, s.last_step / 2, s.last_step, s.last_step + 1}) {
                const double v = t.value_at(step);
                if (!std::isfinite(v)) {
                    std::fprintf(stderr, "property '%s' is not finite at step %d\n", t.name.c_str(), step);
                    std::abort();
                }
            }
    });
    return 0;
}
