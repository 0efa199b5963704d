// The CPU lane trainer (host/train/lane_trainer.hpp) against single CPU runs:
// every log field, validation and final state equal bit for bit.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "host/train/lane_trainer.hpp"

using namespace sca;

namespace {

// The isolated setup's four terms over 60 steps; seed, learning rate and the
// separation weight vary per run (a weight of 0 skips the term in that run only).
ExperimentConfig lane_run(int seed, const std::string& lr, const std::string& separate, int hidden = 16) {
    return test::config_from("seed: " + std::to_string(seed) + "\n"
                             "model: {latent: 5, hidden: " + std::to_string(hidden) + ", layers: 2}\n"
                             "data: {grid: 8, batch: 64}\n"
                             "labels:\n"
                             "  red: {function: redness, power: 8, scale: 0.08}\n"
                             "regularizers:\n"
                             "  - {name: separate, kind: separate, power: 100, shift: true}\n"
                             "  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0, 0], labels: {red: 1}}\n"
                             "  - {name: anti-anchor, kind: anti-anchor, direction: [-1, 0, 0, 0, 0], hemi: true}\n"
                             "  - {name: anti-subspace, kind: anti-subspace, dims: [0]}\n"
                             "schedule:\n"
                             "  keyframes:\n"
                             "    - {step: 0, lr: 1.0e-8, separate: 0, anchor: 0, anti-anchor: 0, anti-subspace: 0.25}\n"
                             "    - {step: 5, lr: " + lr + "}\n"
                             "    - {step: 20, separate: " + separate + ", anchor: 0.1, anti-anchor: 0.05}\n"
                             "    - {step: 60, lr: 0.05, anti-subspace: 0.003}\n");
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!same_bits(a[i], b[i])) return false;
    return true;
}

void require_same_run(const GroupRunResult& lanes, const GroupRunResult& single) {
    REQUIRE(lanes.log.size() == single.log.size());
    for (size_t s = 0; s < single.log.size(); ++s) {
        const StepRecord &a = lanes.log[s], &b = single.log[s];
        INFO("step " << b.step);
        REQUIRE(a.step == b.step);
        REQUIRE(same_bits(a.lr, b.lr));
        REQUIRE(same_bits(a.weights, b.weights));
        REQUIRE(same_bits(a.recon, b.recon));
        REQUIRE(same_bits(a.reg, b.reg));
        REQUIRE(same_bits(a.total, b.total));
        REQUIRE(a.bad_gradient == b.bad_gradient);
        REQUIRE(a.bad_state == b.bad_state);
    }
    REQUIRE(lanes.validation.size() == single.validation.size());
    for (size_t v = 0; v < single.validation.size(); ++v) {
        REQUIRE(lanes.validation[v].step == single.validation[v].step);
        REQUIRE(same_bits(lanes.validation[v].recon, single.validation[v].recon));
        REQUIRE(same_bits(lanes.validation[v].reg, single.validation[v].reg));
    }
    REQUIRE(lanes.state.next_step == single.state.next_step);
    REQUIRE(same_bits(lanes.state.params, single.state.params));
    REQUIRE(same_bits(lanes.state.exp_avg, single.state.exp_avg));
    REQUIRE(same_bits(lanes.state.exp_avg_sq, single.state.exp_avg_sq));
}

}  // namespace

TEST_CASE("lane groups of 1, 3 and 8 runs equal their single runs bit for bit", "[lanes]") {
    for (int M : {1, 3, 8}) {
        std::vector<ExperimentConfig> configs;
        for (int m = 0; m < M; ++m)
            configs.push_back(lane_run(100 * M + m, std::to_string(0.01 + 0.002 * m), m == 1 ? "0" : std::to_string(0.01 / (m + 1))));
        const auto lanes = train_lane_group(configs);
        REQUIRE(lanes.size() == size_t(M));
        for (int m = 0; m < M; ++m) {
            INFO("group of " << M << ", run " << m);
            REQUIRE(lanes[m].log.size() == 61);
            REQUIRE(lanes[m].validation.size() == 11);
            require_same_run(lanes[m], train_single_run(configs[m]));
        }
    }
}

TEST_CASE("a lane that diverges ends like its single run and leaves the others alone", "[lanes]") {
    const std::vector<ExperimentConfig> configs = {lane_run(1, "0.01", "0.01"), lane_run(2, "1.0e30", "0.01")};
    const auto lanes = train_lane_group(configs);
    const auto single = train_single_run(configs[1]);
    REQUIRE(single.log.size() < 61);  // the huge rate does break it
    require_same_run(lanes[1], single);
    require_same_run(lanes[0], train_single_run(configs[0]));
}

TEST_CASE("a run that cannot join a lane group is refused with the reason", "[lanes]") {
    const ExperimentConfig a = lane_run(1, "0.01", "0.01");
    REQUIRE(lane_group_incompatibility(a, lane_run(2, "0.02", "0")).empty());
    REQUIRE(lane_group_incompatibility(a, lane_run(2, "0.01", "0.01", 8)) == "a different model shape");
    REQUIRE(lane_refusal(lane_run(2, "0.01", "0.01", 64)) == "a layer wide enough for the BLAS");
    try {
        train_lane_group({a, lane_run(7, "0.01", "0.01", 8)});
        FAIL("a group of two shapes trained");
    } catch (const std::invalid_argument& e) {
        REQUIRE(std::string(e.what()) == "run seed 7 cannot join the lane group: a different model shape");
    }
}
