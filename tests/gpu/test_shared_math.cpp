// kernels/ math on the host and inside a one-thread kernel, against the same
// expected values: Philox known-answer vectors (Random123) exactly, closed
// forms where they exist, and the host's own results for the rest.
#include <catch2/catch.hpp>

#include <cmath>

#include "shared_math_cases.hpp"

using sca::gpu_test::SharedMathResults;

namespace {

// Independent expectations, not computed by the code under test.
void check_known_answers(const SharedMathResults& r) {
    const uint32_t kat[12] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, 0x408f276d, 0x41c83b0e,
                              0xa20bc7c6, 0x6d5451fd, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    for (int i = 0; i < 12; ++i) CHECK(r.words[i] == kat[i]);
    CHECK(r.words[20] == 511u);                              // uniform_index(2^32 - 1, 512)
    CHECK(r.values[8] == Approx(16777215.0 / 16777216.0));   // uniform01(2^32 - 1)
    // Colour 0 is pure red: hsv (0, 1, 1), redness 1, similarity to red 1.
    CHECK(r.values[9] == 0.0f);
    CHECK(r.values[10] == 1.0f);
    CHECK(r.values[11] == 1.0f);
    CHECK(r.values[12] == 1.0f);
    CHECK(r.values[16] == Approx(0.08f));
    CHECK(r.values[17] == Approx(1.0f));
    // Colour 1 is orange: hue 30 degrees.
    CHECK(r.values[18] == Approx(1.0f / 12.0f));
    CHECK(r.values[54] == Approx(std::pow(0.99, 100)).epsilon(1e-5));
    CHECK(r.values[55] == 0.0078125f);
    CHECK(r.values[60] == 0.0f);  // the masked self pair
    CHECK(r.values[61] == 0.0f);
    CHECK(r.values[62] == Approx(0.125f));  // 0.5^3, unshifted
    CHECK(r.values[63] == Approx(0.75f));   // 3 * 0.5^2
}

}  // namespace

TEST_CASE("shared math on the host matches the known answers", "[host][shared-math]") {
    const auto host = sca::gpu_test::shared_math_on_host();
    REQUIRE(host.words[sca::gpu_test::kSharedMathWords - 1] == 21u);
    check_known_answers(host);
}

TEST_CASE("shared math inside a one-thread kernel matches the host", "[gpu][shared-math]") {
    const auto host = sca::gpu_test::shared_math_on_host();
    const auto dev = sca::gpu_test::shared_math_on_device();
    check_known_answers(dev);
    REQUIRE(dev.words == host.words);  // integer streams: bit-identical
    const int n = int(host.values[sca::gpu_test::kSharedMathValues - 1]);
    REQUIRE(dev.values[sca::gpu_test::kSharedMathValues - 1] == float(n));
    // Floats: device libm (erff, expf, powf, sqrtf) and FMA contraction may
    // differ from the host by a few ulp; allow 4e-6 relative + 1e-7 absolute.
    double worst = 0;
    for (int i = 0; i < n; ++i) {
        const double tol = 4e-6 * std::fabs(host.values[i]) + 1e-7;
        const double err = std::fabs(double(dev.values[i]) - double(host.values[i]));
        worst = std::max(worst, err / tol);
        INFO("value " << i << ": host " << host.values[i] << " device " << dev.values[i]);
        CHECK(err <= tol);
    }
    std::printf("shared math: %d float values, worst %.1f%% of tolerance\n", n, 100 * worst);
}
