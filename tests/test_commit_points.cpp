// Commit points (docs/reliability.md, "Crashes"): writes wait for one flush
// per run, and a sweep's compact train log keeps its runs equal to single runs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/train/run.hpp"
#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_run.hpp"
#include "sweep_fixtures.hpp"

using namespace sca;
using sca::test::fresh_dir;
using sca::test::quiet_options;
namespace fs = std::filesystem;

namespace {

const std::string kShortExperiment = sca::test::tiny_anchor_experiment("    - {name: ablated, kind: ablation, dims: [0]}\n");

std::vector<long> logged_steps(const fs::path& dir) {
    std::istringstream in(read_file((dir / run_files::kTrainLog).string()));
    std::vector<long> steps;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) steps.push_back(std::stol(line.substr(0, line.find(','))));
    return steps;
}

// The rows of `dir`'s log whose step is in `steps`, with the header.
std::string rows_at(const fs::path& dir, const std::vector<long>& steps) {
    std::istringstream in(read_file((dir / run_files::kTrainLog).string()));
    std::string line, out;
    std::getline(in, line);
    out = line + "\n";
    while (std::getline(in, line))
        if (std::find(steps.begin(), steps.end(), std::stol(line.substr(0, line.find(',')))) != steps.end()) out += line + "\n";
    return out;
}

}  // namespace

TEST_CASE("writes in a DeferredSync wait for the outermost scope's commit point", "[commit]") {
    const fs::path dir = fresh_dir("deferred");
    fs::create_directories(dir / "inner");
    REQUIRE(uncommitted_directories() == 0);
    {
        const DeferredSync outer;
        write_file_atomic((dir / "a.txt").string(), "a");
        CHECK(uncommitted_directories() == 1);
        {
            const DeferredSync inner;
            write_file_atomic((dir / "inner" / "b.txt").string(), "b");
            write_file_atomic((dir / "inner" / "c.txt").string(), "c");
            commit_writes();  // a nested scope leaves the flush to the outer one
            CHECK(uncommitted_directories() == 2);
        }
        CHECK(uncommitted_directories() == 2);
        commit_writes();
        CHECK(uncommitted_directories() == 0);
        write_file_atomic((dir / "a.txt").string(), "a2");
        CHECK(uncommitted_directories() == 1);
    }
    CHECK(uncommitted_directories() == 0);  // the outermost scope's end commits
    CHECK(read_file((dir / "a.txt").string()) == "a2");
    CHECK(read_file((dir / "inner" / "c.txt").string()) == "c");
    write_file_atomic((dir / "d.txt").string(), "d");  // no scope: flushed at once
    CHECK(uncommitted_directories() == 0);
    fs::remove_all(dir);
}

TEST_CASE("a run logging every k-th step resumes bit-identical and refuses a truncated log", "[commit][resume]") {
    const auto cfg = test::config_from(kShortExperiment);
    const fs::path whole = fresh_dir("every7"), split = fresh_dir("every7-split");
    TrainOptions o = quiet_options(whole);
    o.log_every = 7;
    REQUIRE(train_run(cfg, o).finished);
    CHECK(logged_steps(whole) == std::vector<long>{0, 7, 14, 21, 28, 35, 42, 49, 56, 60});

    TrainOptions first = quiet_options(split);
    first.log_every = 7;
    first.stop_after = 33;
    REQUIRE_FALSE(train_run(cfg, first).finished);
    const RunSummary rest = resume_run(split.string(), quiet_options(split));  // log_every comes from the state
    REQUIRE(rest.finished);
    for (const char* f : {run_files::kModel, run_files::kOptimizer, run_files::kTrainLog, run_files::kValidation}) {
        INFO(f);
        CHECK(read_file((whole / f).string()) == read_file((split / f).string()));
    }

    // Stopped at 33 again, its log cut back to step 21: the state is ahead of it.
    fs::remove_all(split);
    REQUIRE_FALSE(train_run(cfg, first).finished);
    const std::string log = read_file((split / run_files::kTrainLog).string());
    write_file_atomic((split / run_files::kTrainLog).string(), log.substr(0, log.find("\n28,") + 1));
    CHECK_THROWS_WITH(resume_run(split.string(), quiet_options(split)),
                      Catch::Contains("ends at step 21") && Catch::Contains("at step 34") && Catch::Contains("truncated"));
    fs::remove_all(whole);
    fs::remove_all(split);
}

TEST_CASE("a swept run equals the single run of its config, its log keeps every 10th step", "[commit][sweep]") {
    const fs::path work = fresh_dir("swept");
    fs::create_directories(work);
    std::ofstream(work / "short.yaml") << kShortExperiment;
    for (const int every : {10, 1}) {
        INFO("train_log_every " << every);
        std::ofstream(work / "s.yaml") << "base: short.yaml\naxes:\n  - seed: 0..1\n"
                                       << (every == 10 ? "" : "train_log_every: 1\n");  // 10 is the default
        SweepOptions so;
        so.sweep_file = (work / "s.yaml").string();
        so.out = (work / ("out" + std::to_string(every))).string();
        so.quiet = true;
        so.jobs = 1;
        so.backend = "cpu";
        const SweepReport report = run_sweep(so);
        REQUIRE(report.trained == 2);
        for (const auto& run : expand_sweep(load_sweep(so.sweep_file), true)) {
            const fs::path swept = sweep_run_dir(so.out, run.id), single = work / ("single-" + run.id);
            fs::remove_all(single);
            REQUIRE(train_run(parse_experiment(run.config_text, run.base), quiet_options(single)).finished);
            for (const char* f : {run_files::kModel, run_files::kValidation, run_files::kConfig}) {
                INFO(run.id << " " << f);
                CHECK(read_file((swept / f).string()) == read_file((single / f).string()));
            }
            if (every == 1) {
                CHECK(read_file((swept / run_files::kTrainLog).string()) == read_file((single / run_files::kTrainLog).string()));
            } else {
                const std::vector<long> steps{0, 10, 20, 30, 40, 50, 60};
                CHECK(logged_steps(swept) == steps);
                CHECK(read_file((swept / run_files::kTrainLog).string()) == rows_at(single, steps));
            }
        }
    }
    fs::remove_all(work);
}
