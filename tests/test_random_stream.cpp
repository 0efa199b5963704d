// The counter-based generator and the data stream built on it.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "helpers.hpp"
#include "host/config/dataset.hpp"
#include "kernels/data_stream.hpp"

using namespace sca;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[random]") {
    const Philox4 zero = philox4x32_10(0, 0, 0, 0, 0, 0);
    CHECK(zero.v[0] == 0x6627e8d5u);
    CHECK(zero.v[1] == 0xe169c58du);
    CHECK(zero.v[2] == 0xbc57ac4cu);
    CHECK(zero.v[3] == 0x9b00dbd8u);
    const Philox4 ones = philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
    CHECK(ones.v[0] == 0x408f276du);
    CHECK(ones.v[1] == 0x41c83b0eu);
    CHECK(ones.v[2] == 0xa20bc7c6u);
    CHECK(ones.v[3] == 0x6d5451fdu);
    const Philox4 pi = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
    CHECK(pi.v[0] == 0xd16cfe09u);
    CHECK(pi.v[1] == 0x94fdcceb);
    CHECK(pi.v[2] == 0x5001e420u);
    CHECK(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("uniform draws are in range and roughly uniform", "[random]") {
    double sum = 0;
    std::vector<int> hist(8, 0);
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const float u = label_uniform(5, uint32_t(i / 64), uint32_t(i % 64), 0);
        REQUIRE(u >= 0.0f);
        REQUIRE(u < 1.0f);
        sum += u;
        ++hist[batch_point(5, uint32_t(i / 64), uint32_t(i % 64), 8)];
    }
    CHECK(sum / n == Approx(0.5).margin(0.005));  // sd of the mean is 0.00065
    for (int h : hist) CHECK(h == Approx(n / 8.0).epsilon(0.03));
}

TEST_CASE("different seeds, steps and samples give different streams", "[random]") {
    std::set<uint32_t> seen;
    for (uint64_t seed : {0ull, 1ull, 1ull << 32})
        for (uint32_t step = 0; step < 4; ++step)
            for (uint32_t sample = 0; sample < 4; ++sample) seen.insert(draw(seed, Stream::Data, sample, step, 0).v[0]);
    CHECK(seen.size() == 3 * 4 * 4);
    CHECK(draw(1, Stream::Data, 0, 0, 0).v[0] != draw(1, Stream::Init, 0, 0, 0).v[0]);
}

TEST_CASE("over 96,064 draws the red label count averages about 83", "[random][labels]") {
    // Expected count = draws x mean over the grid of p = 0.08 redness^8 = 86.37.
    // The paper's "about 83" is one run's count; one run's count is a sum of
    // independent Bernoullis with sd ~ sqrt(86) = 9.3, so 83 is well within
    // one sd of it. The mean of 30 seeds has sd ~ 9.3 / sqrt(30) = 1.7: allow 4 sd.
    const auto cfg = load_experiment(test::experiment_path("isolated.yaml"));
    const ColourSet grid = training_grid(cfg.grid);
    const auto p = label_probabilities(cfg.labels, grid);
    double mean_p = 0;
    for (int i = 0; i < grid.size(); ++i) mean_p += p[i] / grid.size();
    const int steps = cfg.last_step() + 1;
    const double expected = mean_p * steps * cfg.batch;
    CHECK(steps * cfg.batch == 96064);
    CHECK(expected == Approx(86.37).margin(0.01));
    CHECK(std::abs(expected - 83) < std::sqrt(expected));  // the paper's count, within one sd
    const int seeds = 30;
    double total = 0;
    Batch batch;
    for (int seed = 0; seed < seeds; ++seed) {
        long count = 0;
        for (int t = 0; t < steps; ++t) {
            draw_batch(uint64_t(seed), t, cfg.batch, grid, p, 1, batch);
            for (float y : batch.labels) count += y == 1.0f;
        }
        total += double(count);
    }
    INFO("expected " << expected << ", mean over seeds " << total / seeds);
    CHECK(std::abs(total / seeds - expected) < 4 * std::sqrt(expected / seeds));
}

TEST_CASE("validation labels are exact and the data sets have the documented sizes", "[data]") {
    const auto cfg = load_experiment(test::experiment_path("anchored-subspace.yaml"));
    CHECK(training_grid(8).size() == 512);
    const ColourSet val = validation_set(8);
    CHECK(val.size() == 343 + 8);
    CHECK(val.rgb[0] == Approx(1.0f / 16));
    const Batch b = exact_batch(cfg.labels, val);
    int red = 0, vibrant = 0;
    for (int i = 0; i < b.size; ++i) {
        red += b.labels[i] == 1.0f;
        vibrant += b.labels[size_t(b.size) + i] == 1.0f;
    }
    CHECK(red == 1);      // pure red only
    CHECK(vibrant == 6);  // the six fully saturated, full-value corners
}

TEST_CASE("batches use exactly the words batch_point and label_uniform name", "[random][data]") {
    // The GPU draws through those two functions; the CPU's draw_batch must agree.
    std::vector<LabelSpec> labels(5, LabelSpec{"l", LabelFunction::Redness, 1.0f, 1.0f});
    const ColourSet grid = training_grid(4);
    std::vector<float> p(labels.size() * size_t(grid.size()), 0.5f);
    Batch batch;
    for (int step : {0, 7, 1500}) {
        draw_batch(99, step, 33, grid, p, int(labels.size()), batch);
        for (int i = 0; i < 33; ++i) {
            const uint32_t point = batch_point(99, uint32_t(step), uint32_t(i), uint32_t(grid.size()));
            CHECK(batch.points[i] == int(point));
            CHECK(batch.x[size_t(i)] == grid.rgb[3 * size_t(point)]);
            for (int l = 0; l < 5; ++l)
                CHECK(batch.labels[size_t(l) * 33 + i] == (label_uniform(99, uint32_t(step), uint32_t(i), uint32_t(l)) < 0.5f ? 1.0f : 0.0f));
        }
    }
}
