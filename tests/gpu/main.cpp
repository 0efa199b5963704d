// The GPU tests' main: without a usable CUDA device every test that needs one
// exits 77, which ctest (SKIP_RETURN_CODE 77) lists as skipped, never passed.
// Tests tagged [host] (the host half of the shared-math checks) always run.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "cuda/fused_model.hpp"

int main(int argc, char** argv) {
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
    const auto& data = session.configData();
    const bool listing = data.listTests || data.listTestNamesOnly || data.listTags || data.listReporters;
    const std::string why = sca::cuda::device_unavailable_reason();
    if (!listing && !why.empty()) {
        const auto& config = session.config();
        const auto selected = Catch::filterTests(Catch::getAllTestCasesSorted(config), config.testSpec(), config);
        size_t needs_device = 0;
        for (const auto& tc : selected) {
            const auto& tags = tc.getTestCaseInfo().tags;
            if (std::find(tags.begin(), tags.end(), "host") == tags.end()) ++needs_device;
        }
        if (needs_device > 0) {
            std::printf("SKIPPED: %zu GPU test case(s) need a CUDA device: %s\n", needs_device, why.c_str());
            return 77;
        }
    } else if (!listing) {
        std::printf("GPU: %s\n", sca::cuda::device_description().c_str());
    }
    return session.run();
}
