// End-to-end training on the CPU: determinism, resume, the run directory.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/train/run.hpp"

using namespace sca;
using sca::test::fresh_dir;
using sca::test::quiet_options;
namespace fs = std::filesystem;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the same seed gives bit-identical weights, another seed different ones", "[training]") {
    const auto cfg = load_experiment(test::experiment_path("isolated.yaml"), {"seed=11"});
    auto run = [&](const ExperimentConfig& c) {
        auto b = make_cpu_backend(c);
        std::vector<StepRecord> log;
        b->train(0, c.last_step(), log);
        return b->state().params;
    };
    const auto a = run(cfg), b = run(cfg);
    CHECK(same_bits(a, b));
    CHECK_FALSE(same_bits(a, run(load_experiment(test::experiment_path("isolated.yaml"), {"seed=12"}))));
}

TEST_CASE("a paper run trains: reconstruction error falls far below its start", "[training][paper]") {
    const auto cfg = load_experiment(test::experiment_path("isolated.yaml"));
    auto b = make_cpu_backend(cfg);
    const double before = b->validate(0).recon;
    std::vector<StepRecord> log;
    b->train(0, cfg.last_step(), log);
    const double after = b->validate(cfg.last_step()).recon;
    INFO("val recon before " << before << ", after " << after);
    CHECK(after < 1e-3);
    CHECK(after < before / 100);
    REQUIRE(log.size() == 1501);
    CHECK(log[0].lr == 1e-8f);
    CHECK(std::isnan(log[1500].reg[0]));  // separate has weight 0 at the end: skipped
}

TEST_CASE("resume after a stop ends bit-identical to an uninterrupted run", "[training][resume]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), {"seed=5", "checkpoint.every=200"});
    const fs::path whole = fresh_dir("whole"), split = fresh_dir("split");
    const RunSummary full = train_run(cfg, quiet_options(whole));
    REQUIRE(full.finished);

    TrainOptions first = quiet_options(split);
    first.stop_after = 733;
    const RunSummary part = train_run(cfg, first);
    CHECK_FALSE(part.finished);
    CHECK(part.last_step == 733);
    const RunSummary rest = resume_run(split.string(), quiet_options(split));
    CHECK(rest.first_step == 734);
    REQUIRE(rest.finished);
    CHECK(same_bits(rest.state.params, full.state.params));
    CHECK(same_bits(rest.state.exp_avg_sq, full.state.exp_avg_sq));
    for (const char* f : {run_files::kModel, run_files::kTrainLog, run_files::kValidation, run_files::kConfig}) {
        INFO(f);
        CHECK(read_file((whole / f).string()) == read_file((split / f).string()));
    }
    fs::remove_all(whole);
    fs::remove_all(split);
}

TEST_CASE("the run directory holds every output and is never silently replaced", "[training][outputs]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), {"schedule.keyframes.4.step=60", "schedule.keyframes.2.step=40"});
    const fs::path dir = fresh_dir("outputs");
    train_run(cfg, quiet_options(dir));
    for (const char* f : {run_files::kConfig, run_files::kModel, run_files::kOptimizer, run_files::kTrainLog, run_files::kValidation})
        CHECK(fs::exists(dir / f));
    const std::string log = read_file((dir / run_files::kTrainLog).string());
    CHECK(log.rfind("step,lr,w_separate,w_anchor,recon,separate,anchor,total\n0,", 0) == 0);
    // 61 steps + header; validation every 6 steps: 0, 6, ..., 60.
    CHECK(std::count(log.begin(), log.end(), '\n') == 62);
    CHECK(read_file((dir / run_files::kValidation).string()).find("\"step\": 60") != std::string::npos);
    const std::string model_before = read_file((dir / run_files::kModel).string());
    CHECK_THROWS_WITH(train_run(cfg, quiet_options(dir)), Catch::Contains("already holds a run") && Catch::Contains("--overwrite"));
    CHECK(read_file((dir / run_files::kModel).string()) == model_before);
    TrainOptions again = quiet_options(dir);
    again.overwrite = true;
    CHECK_NOTHROW(train_run(cfg, again));
    // The resolved config reloads to the same experiment.
    const auto reloaded = load_experiment((dir / run_files::kConfig).string());
    CHECK(reloaded.schedule.row_steps == cfg.schedule.row_steps);
    CHECK(reloaded.weights_at(33) == cfg.weights_at(33));
    fs::remove_all(dir);
}

TEST_CASE("a CSV-scheduled config trains identically to its YAML twin", "[training][schedule]") {
    const auto yaml = load_experiment(test::experiment_path("isolated.yaml"), {"seed=2"});
    const auto csv = load_experiment(test::experiment_path("isolated.yaml"), {"seed=2", "schedule={csv: dopesheets/isolated.csv}"});
    auto a = make_cpu_backend(yaml), b = make_cpu_backend(csv);
    std::vector<StepRecord> la, lb;
    a->train(0, 300, la);
    b->train(0, 300, lb);
    CHECK(same_bits(a->state().params, b->state().params));
}

TEST_CASE("a diverging run stops with a message naming the step", "[training][errors]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), {"schedule.keyframes.0.lr=1e30", "schedule.keyframes.1.lr=1e30"});
    const fs::path dir = fresh_dir("diverge");
    CHECK_THROWS_WITH(train_run(cfg, quiet_options(dir)),
                      Catch::StartsWith("step ") && (Catch::Contains("not finite") || Catch::Contains(" is NaN") || Catch::Contains("inf")));
    fs::remove_all(dir);
}

TEST_CASE("a run directory another process is training in is refused", "[training][outputs]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), {"schedule.keyframes.4.step=60", "schedule.keyframes.2.step=40"});
    const fs::path dir = fresh_dir("locked");
    TrainOptions first = quiet_options(dir);
    first.stop_after = 20;
    train_run(cfg, first);
    // Hold the lock as a second trainer would.
    const int fd = ::open((dir / ".sca.lock").c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    const std::string model_before = read_file((dir / run_files::kModel).string());
    CHECK_THROWS_WITH(resume_run(dir.string(), quiet_options(dir)), Catch::Contains("another sca process is training in"));
    CHECK(read_file((dir / run_files::kModel).string()) == model_before);
    ::close(fd);  // released: the resume goes ahead
    CHECK(resume_run(dir.string(), quiet_options(dir)).finished);
    fs::remove_all(dir);
}
