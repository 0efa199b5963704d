// Issue 14, class 6: a sweep survives its own faults. A sweep folder is locked
// as a whole, a refused sweep writes nothing, every run's evaluation section
// is checked before anything trains, --jobs is bounded, and an I/O error while
// recording a run ends the sweep with a message (exit 1), never an abort.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_run.hpp"
#include "sweep_fixtures.hpp"

using namespace sca;
using test::shell;
namespace fs = std::filesystem;

namespace {

const char* kTiny = R"(model: {latent: 4, hidden: 8, layers: 1}
data: {grid: 4, batch: 16}
regularizers:
  - {name: separate, kind: separate}
schedule:
  keyframes:
    - {step: 0, lr: 0.01, separate: 0.01}
    - {step: 30, lr: 0.01}
evaluation:
  interventions:
    - {name: ablated, kind: ablation, dims: [0]}
)";

struct SweepDir {
    fs::path path = test::fresh_dir("sweep faults");
    std::string sweep, out;
    explicit SweepDir(const std::string& axes = "  - seed: 0..3\n") {
        fs::create_directories(path);
        write_file_atomic((path / "tiny.yaml").string(), kTiny);
        sweep = (path / "s.yaml").string();
        write_file_atomic(sweep, "base: tiny.yaml\naxes:\n" + axes);
        out = (path / "out").string();
    }
    ~SweepDir() { fs::remove_all(path); }
    SweepOptions options() const { return test::quiet_cpu_sweep(sweep, out); }
};

}  // namespace

TEST_CASE("a sweep folder in use is refused at once and a refused sweep writes nothing", "[hardening][sweep]") {
    SweepDir s;
    fs::create_directories(fs::path(s.out) / sweep_files::kRuns);
    write_file_atomic((fs::path(s.out) / sweep_files::kPlan).string(), "the plan of the sweep already running\n");
    // Another process holds the folder (as a running sweep does).
    const int fd = ::open((fs::path(s.out) / ".sca-sweep.lock").c_str(), O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    // (flock belongs to the open file: run_sweep's own open below conflicts with it too.)
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    std::string out;
    CHECK(shell(std::string(SCA_BINARY) + " sweep '" + s.sweep + "' --out '" + s.out + "' --backend cpu -q", &out) == 1);
    CHECK(out == "error: another sca sweep is running in '" + s.out + "'; wait for it or stop it first\n");
    CHECK_THROWS_WITH(run_sweep(s.options()), Catch::Contains("another sca sweep is running"));
    CHECK(read_file((fs::path(s.out) / sweep_files::kPlan).string()) == "the plan of the sweep already running\n");
    CHECK(fs::is_empty(fs::path(s.out) / sweep_files::kRuns));
    ::close(fd);
    // Once free, the same sweep runs, and a refusal for another reason (a
    // finished run of another config) leaves the plan as it was too.
    const SweepReport r = run_sweep(s.options());
    CHECK(r.trained == 4);
    const std::string plan = read_file((fs::path(s.out) / sweep_files::kPlan).string());
    // (Run ids derive from the resolved config, so a finished run of another
    // config can only be a done marker that disagrees with its directory.)
    const std::string id = expand_sweep(load_sweep(s.sweep), true).front().id;
    write_file_atomic(sweep_run_dir(s.out, id) + "/" + sweep_files::kDone, "{\"config_hash\": \"0\"}\n");
    CHECK_THROWS_WITH(run_sweep(s.options()), Catch::Contains("was finished with another config"));
    CHECK(read_file((fs::path(s.out) / sweep_files::kPlan).string()) == plan);
}

TEST_CASE("the shards of one sweep run side by side, a whole sweep or the same shard twice does not", "[hardening][sweep]") {
    SweepDir s;
    fs::create_directories(fs::path(s.out) / sweep_files::kRuns);
    auto hold = [&](const std::string& name, int how) {
        const int fd = ::open((fs::path(s.out) / name).c_str(), O_RDWR | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, how | LOCK_NB) == 0);
        return fd;
    };
    // Shard 0/2 is running (as a Slurm array task does).
    const int folder = hold(".sca-sweep.lock", LOCK_SH), shard0 = hold(".sca-sweep-shard-0-of-2.lock", LOCK_EX);
    SweepOptions one = s.options();
    one.shard = {1, 2};
    const SweepReport r = run_sweep(one);  // another shard trains meanwhile
    CHECK(r.trained == 2);
    SweepOptions zero = s.options();
    zero.shard = {0, 2};
    CHECK_THROWS_WITH(run_sweep(zero), Catch::Contains("shard 0/2 of this sweep is already running"));
    CHECK_THROWS_WITH(run_sweep(s.options()), Catch::Contains("another sca sweep is running"));
    ::close(shard0);
    ::close(folder);
    CHECK(run_sweep(zero).trained == 2);
}

TEST_CASE("every run's evaluation section is checked before anything trains", "[hardening][sweep]") {
    SweepDir s("  - seed: 0..2\n  - evaluation.rgb_grid: [8, 1]\n");
    CHECK_THROWS_WITH(run_sweep(s.options()), Catch::Contains("s.yaml:4: evaluation.rgb_grid") &&
                                                  Catch::Contains("must be between 2 and 256, got 1"));
    CHECK_FALSE(fs::exists(s.out));
}

TEST_CASE("sca sweep and sca paper bound --jobs: zero, negative and absurd counts are refused", "[hardening][sweep][cli]") {
    SweepDir s;
    for (const char* jobs : {"0", "-1", "100000"}) {
        std::string out;
        INFO(jobs);
        CHECK(shell(std::string(SCA_BINARY) + " sweep '" + s.sweep + "' --out '" + s.out + "' --backend cpu -q --jobs " + jobs, &out) == 2);
        CHECK_THAT(out, Catch::StartsWith("error: ") && Catch::Contains("--jobs"));
        CHECK(shell(std::string(SCA_BINARY) + " paper '" + s.path.string() + "/tiny.yaml' --out '" + s.out + "' --jobs " + jobs, &out) == 2);
    }
    CHECK_FALSE(fs::exists(s.out));
    SweepOptions o = s.options();
    o.jobs = -3;
    CHECK_THROWS_AS(run_sweep(o), ConfigError);
}

TEST_CASE("an I/O error while recording a run ends the sweep with one clear line, never an abort", "[hardening][sweep]") {
    SweepDir s("  - seed: 0..3\n  - schedule.keyframes.1.lr: [0.01, 1.0e30]\n");
    const auto runs = expand_sweep(load_sweep(s.sweep), true);  // resolved: the ids the sweep uses
    // Run 1 diverges and its failure record cannot be written (a folder stands where the file must go).
    fs::create_directories(fs::path(sweep_run_dir(s.out, runs[1].id)) / sweep_files::kFailed / "blocked");
    std::string out;
    const int rc = shell(std::string(SCA_BINARY) + " sweep '" + s.sweep + "' --out '" + s.out + "' --backend cpu -q --jobs 1", &out);
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::StartsWith("error: cannot ") && Catch::Contains("the sweep stopped"));
    CHECK(out.find("terminate") == std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    // Fixed, the rerun completes: the runs finished before are kept.
    fs::remove_all(sweep_run_dir(s.out, runs[1].id));
    const SweepReport r = run_sweep(s.options());
    CHECK(r.skipped == 1);  // run 0 finished before the fault
    CHECK(r.trained + r.skipped + r.failures.size() == 8);
    CHECK(r.failures.size() == 4);  // the lr 1e30 runs
}
