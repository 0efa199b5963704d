// Issue 14, classes 8 and 9: a non-finite Adam moment or parameter stops
// training at the step it appears, and every failure of the command line is
// one clear line with the documented exit status (2 for a command-line or
// config mistake, 1 for the rest), leaving nothing that blocks a retry.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/train/backend.hpp"
#include "host/train/finite.hpp"
#include "host/config/checkpoint.hpp"
#include "host/io/errors.hpp"
#include "host/train/run.hpp"

using namespace sca;
using test::shell;
namespace fs = std::filesystem;

namespace {

// The learning rate jumps to the largest float at step 30: the loss and the
// gradient of that step are finite, but the update overflows the parameters.
const std::string kOverflowing = test::lr_jump_experiment("3.4e38", 50);

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

const std::string kSca = SCA_BINARY;
const std::string kExperiment = std::string(SCA_SOURCE_DIR) + "/experiments/anchored.yaml";

}  // namespace

TEST_CASE("a parameter overflowed by an update stops the run at that step, not at the next checkpoint",
          "[hardening][numerical]") {
    const auto cfg = test::config_from(kOverflowing, "overflow.yaml");
    const fs::path dir = test::fresh_dir("overflow");
    try {
        train_run(cfg, test::quiet_options(dir));
        FAIL("no fault");
    } catch (const NumericalFault& f) {
        CHECK(f.step() == 30);
        CHECK(f.term() == "parameters");
        CHECK_THAT(f.what(), Catch::StartsWith("step 30: the parameters are not finite after this step's update"));
    }
    fs::remove_all(dir);
}

TEST_CASE("the finiteness check finds one inf or NaN anywhere and passes the extremes of finite floats",
          "[hardening][numerical]") {
    using L = std::numeric_limits<float>;
    for (const size_t n : {size_t(1), size_t(7), size_t(8), size_t(9), size_t(853)}) {
        std::vector<float> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = (i % 4 == 0 ? L::max() : i % 4 == 1 ? -L::denorm_min() : i % 4 == 2 ? -0.0f : 1.0f);
        CHECK(all_finite(v));
        for (const size_t at : {size_t(0), n / 2, n - 1})
            for (const float bad : {L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN()}) {
                auto w = v;
                w[at] = bad;
                INFO("n " << n << ", at " << at << ", value " << bad);
                CHECK_FALSE(all_finite(w));
            }
    }
}

TEST_CASE("a non-finite Adam moment stops the step it appears in, naming the moment", "[hardening][numerical]") {
    const auto cfg = test::config_from(kOverflowing, "overflow.yaml");
    for (const char* moment : {"exp_avg", "exp_avg_sq"}) {
        INFO(moment);
        auto backend = make_cpu_backend(cfg);
        TrainState s = initial_state(cfg);
        s.next_step = 5;
        (std::string(moment) == "exp_avg" ? s.exp_avg : s.exp_avg_sq)[3] = std::numeric_limits<float>::infinity();
        backend->load_state(s);
        std::vector<StepRecord> log;
        backend->train(5, 9, log);
        REQUIRE(log.size() == 1);  // stopped at step 5
        CHECK(log[0].step == 5);
        CHECK(log[0].bad_state == moment);
    }
    // An optimizer state holding non-finite values is refused on resume.
    const fs::path dir = test::fresh_dir("nonfinite state");
    TrainOptions o = test::quiet_options(dir);
    o.stop_after = 9;
    train_run(cfg, o);
    TrainState s = load_train_state((dir / run_files::kOptimizer).string(), cfg.model);
    s.exp_avg_sq[0] = std::numeric_limits<float>::quiet_NaN();
    // (the hashes stay those of this run, so only the values are wrong)
    std::map<std::string, std::string> meta;
    load_train_state((dir / run_files::kOptimizer).string(), cfg.model, &meta);
    meta.erase("next_step");
    save_train_state((dir / run_files::kOptimizer).string(), cfg.model, s, meta);
    CHECK_THROWS_WITH(resume_run(dir.string(), test::quiet_options(dir)), Catch::Contains("holds non-finite"));
    fs::remove_all(dir);
}

TEST_CASE("command-line mistakes exit 2 in one line naming what is wrong", "[hardening][cli]") {
    std::string out;
    CHECK(shell(kSca + " trian x.yaml", &out) == 2);
    CHECK(out == "error: unknown command 'trian' (expected one of: train, eval, select, paper, report, sweep, collect, search, compare; see sca --help)\n");
    CHECK(shell(kSca, &out) == 2);
    CHECK(lines(out) == 1);
    CHECK(shell(kSca + " train " + kExperiment + " --bogus", &out) == 2);
    CHECK_THAT(out, Catch::StartsWith("error: ") && Catch::Contains("--bogus"));
    CHECK(lines(out) == 1);
    for (const std::string& args : std::vector<std::string>{"train " + kExperiment + " --stop-after -5", "sweep s.yaml --out o --jobs -2",
                                   "sweep s.yaml --out o --max-runs -1", "sweep s.yaml --out o --slurm --shards -3",
                                   "paper " + kExperiment + " --seeds -1", "report . --depth -1"}) {
        INFO(args);
        CHECK(shell(kSca + " " + args, &out) == 2);
        CHECK_THAT(out, Catch::StartsWith("error: "));
        CHECK(lines(out) == 1);
    }
    CHECK(shell(kSca + " --help", &out) == 0);
}

TEST_CASE("a fresh run that fails before training leaves no directory behind, so a retry is not blocked",
          "[hardening][cli]") {
    const fs::path dir = test::fresh_dir("fails early");
    std::string out;
    // This build has no CUDA backend (or no device): refused before the first step.
    const int rc = shell(kSca + " train " + kExperiment + " schedule.keyframes.4.step=60 schedule.keyframes.2.step=40 --backend cuda -q --out '" +
                          dir.string() + "'",
                      &out);
    if (rc == 0) {
        WARN("a CUDA device is present: nothing fails early here");
        fs::remove_all(dir);
        return;
    }
    CHECK(rc == 1);
    CHECK(lines(out) == 1);
    CHECK_FALSE(fs::exists(dir));
    CHECK(shell(kSca + " train " + kExperiment + " schedule.keyframes.4.step=60 schedule.keyframes.2.step=40 --backend cpu -q --no-eval --out '" +
                 dir.string() + "'",
             &out) == 0);
    fs::remove_all(dir);
}

TEST_CASE("file-system errors are rephrased: symlink loops, names too long, dangling links", "[hardening][cli]") {
    const fs::path dir = test::fresh_dir("fs errors");
    fs::create_directories(dir);
    fs::create_symlink(dir / "loop-a", dir / "loop-b");
    fs::create_symlink(dir / "loop-b", dir / "loop-a");
    fs::create_symlink(dir / "nowhere", dir / "dangling");
    const std::string train = kSca + " train " + kExperiment + " schedule.keyframes.4.step=60 schedule.keyframes.2.step=40 --backend cpu -q --no-eval --out ";
    std::string out;
    for (const auto& [target, says] : std::vector<std::pair<std::string, std::string>>{
             {(dir / "loop-a" / "run").string(), "symbolic link"},
             {(dir / std::string(300, 'x')).string(), "name"},
             {(dir / "dangling").string(), "dangling"},
             {(dir / "loop-a").string(), "symbolic link"}}) {
        INFO(target);
        CHECK(shell(train + "'" + target + "'", &out) == 1);
        CHECK_THAT(out, Catch::StartsWith("error: ") && Catch::Contains(says) && !Catch::Contains("filesystem error"));
        CHECK(lines(out) == 1);
        CHECK(shell(kSca + " eval '" + target + "'", &out) != 0);
        CHECK_THAT(out, Catch::StartsWith("error: ") && !Catch::Contains("filesystem error"));
        CHECK(shell(kSca + " report '" + target + "'", &out) == 1);
        CHECK_THAT(out, Catch::StartsWith("error: ") && !Catch::Contains("filesystem error"));
        CHECK(lines(out) == 1);
    }
    fs::remove_all(dir);
}
