// The float GELU (vectorized on the CPU) against the exact GELU in double.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "host/train/gelu.hpp"

TEST_CASE("float GELU and its derivative match the exact double GELU", "[gelu]") {
    std::vector<float> x;
    for (int i = -240000; i <= 240000; ++i) x.push_back(float(i) * 5e-5f);   // [-12, 12]
    for (float v : {-87.0f, -40.0f, -13.5f, 0.0f, -0.0f, 1e-30f, -1e-30f, 13.5f, 40.0f, 1e4f}) x.push_back(v);
    std::vector<float> y(x.size()), dy(x.size());
    sca::gelu_with_derivative(x.data(), y.data(), dy.data(), x.size());
    // Where activations live (|x| <= 4) and in the tails (4 < |x| <= 12, where
    // float rounding of the exp argument -x^2/2 costs a few ulp of values
    // below 3e-5). dy = cdf + x pdf cancels near x = -0.75, so its error is
    // scaled by the size of its terms.
    double worst_y[2] = {0, 0}, worst_dy[2] = {0, 0};
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        const double cdf = 0.5 * std::erfc(-v / std::sqrt(2.0));
        const double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
        const double ey = v * cdf, edy = cdf + v * pdf;
        REQUIRE(std::isfinite(y[i]));
        REQUIRE(std::isfinite(dy[i]));
        if (std::abs(v) > 12) continue;
        const int tail = std::abs(v) > 4;
        worst_y[tail] = std::max(worst_y[tail], std::abs(y[i] - ey) / std::max(std::abs(ey), 1e-30));
        worst_dy[tail] = std::max(worst_dy[tail], std::abs(dy[i] - edy) / std::max(std::abs(cdf) + std::abs(v * pdf), 1e-30));
    }
    INFO("worst relative error |x| <= 4: y " << worst_y[0] << ", dy " << worst_dy[0] << "; tails: y " << worst_y[1]
                                            << ", dy " << worst_dy[1]);
    CHECK(worst_y[0] < 3e-6);
    CHECK(worst_dy[0] < 3e-6);
    CHECK(worst_y[1] < 5e-5);
    CHECK(worst_dy[1] < 5e-5);
}
