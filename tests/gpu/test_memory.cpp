// Device memory: the footprint a group of models needs, and what happens when
// a group does not fit (a message saying how many would, nothing allocated).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cuda/multi_model.hpp"
#include "host/config/config.hpp"

using namespace sca;

namespace {

ExperimentConfig isolated() { return load_experiment(std::string(SCA_SOURCE_DIR) + "/experiments/isolated.yaml"); }

}  // namespace

TEST_CASE("the device footprint counts each model's buffers and how many fit", "[host][memory]") {
    const ExperimentConfig cfg = isolated();
    const cuda::FusedModel m = cuda::fused_model_for(cfg);
    const int rows = cfg.last_step() + 1;
    const cuda::DeviceFootprint f = cuda::device_footprint(m, rows, rows);
    // Parameters and both Adam moments, seed and schedule index, a schedule table, a whole-run log.
    const size_t per_model = 3 * size_t(m.n_params) * 4 + 8 + 4 + size_t(rows) * (3 + m.n_regs) * 4 +
                             size_t(rows) * (2 + m.n_regs) * 4;
    CHECK(f.per_model == per_model);
    CHECK(f.shared == size_t(m.n_points) * (3 + m.n_labels) * 4);
    CHECK(f.bytes(10) == f.shared + 10 * per_model);
    CHECK(f.models_within(f.bytes(10)) == 10);
    CHECK(f.models_within(f.bytes(10) - 1) == 9);
    CHECK(f.models_within(f.shared) == 0);
    CHECK(f.models_within(size_t(1) << 62) == 1 << 30);
}

TEST_CASE("a group too large for the device is refused before allocating, saying how many fit", "[gpu][memory]") {
    const ExperimentConfig cfg = isolated();
    const cuda::FusedModel m = cuda::fused_model_for(cfg);
    const int rows = cfg.last_step() + 1;
    const auto [free, total] = cuda::device_memory();
    const cuda::DeviceFootprint f = cuda::device_footprint(m, rows, rows);
    const int M = int(std::min<size_t>(size_t(1) << 30, total / f.per_model * 2));  // twice what the whole device holds
    const std::vector<float> grid(size_t(m.n_points) * 3, 0.5f), table(size_t(rows) * (3 + m.n_regs), 0.0f);
    const std::vector<uint64_t> seeds(size_t(M), 1);
    const std::vector<int> schedule_of(size_t(M), 0);
    const std::vector<float> probabilities(size_t(m.n_points) * m.n_labels, 0.5f);
    try {
        cuda::DeviceTrainer trainer(m, M, grid, probabilities, seeds, table, rows, schedule_of);
        FAIL("a group of " << M << " models was accepted");
    } catch (const cuda::DeviceMemoryError& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK_THAT(what, Catch::Contains(std::to_string(M) + " models") && Catch::Contains("are free: at most " +
                                                                                           std::to_string(f.models_within(free))));
    }
    const auto [free_after, total_after] = cuda::device_memory();
    CHECK(free_after + (size_t(64) << 20) >= free);  // nothing large was left allocated
}
