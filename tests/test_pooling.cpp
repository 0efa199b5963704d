// Selecting among runs of different experiments pools them: sca select and
// sca report warn first, naming the config keys that differ (seed and a
// sweep's swept keys excepted).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/eval/selection.hpp"

using namespace sca;
namespace fs = std::filesystem;

namespace {

const std::string kConfig = R"(seed: SEED
model: {latent: 4}
regularizers:
  - {name: separate, kind: separate}
  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0]}
schedule:
  keyframes:
    - {step: 0, lr: LR}
    - {step: 10}
)";

fs::path run_with(const std::string& name, const std::string& seed, const std::string& lr, const std::string& extra = "") {
    const fs::path d = test::fresh_dir(name);
    fs::create_directories(d);
    std::string text = kConfig;
    text.replace(text.find("SEED"), 4, seed);
    text.replace(text.find("LR"), 2, lr);
    write_file_atomic((d / "config.yaml").string(), text + extra);
    return d;
}

}  // namespace

TEST_CASE("config_differences names the keys that make runs different experiments", "[selection][pooling]") {
    const fs::path a = run_with("pool-a", "0", "0.1"), b = run_with("pool-b", "1", "0.1"),
                   c = run_with("pool-c", "2", "0.2"), d = run_with("pool-d", "3", "0.1", "checkpoint: {every: 5}\n");
    CHECK(config_differences({a.string(), b.string()}).empty());  // seeds alone: one experiment
    CHECK(config_differences({a.string(), c.string()}) == std::vector<std::string>{"schedule.keyframes.0.lr"});
    CHECK(config_differences({a.string(), d.string()}) == std::vector<std::string>{"checkpoint.every"});
    // A sweep's swept key, in an override's form, is not a difference.
    CHECK(config_differences({a.string(), c.string()}, {"schedule.keyframes.0.lr"}).empty());
    CHECK(config_differences({a.string(), c.string()}, {"schedule.keyframes.0"}).empty());
    const fs::path e = run_with("pool-e", "4", "0.1");
    std::string text = read_file((e / "config.yaml").string());
    text.replace(text.find("[1, 0, 0, 0]"), 12, "[0, 1, 0, 0]");
    write_file_atomic((e / "config.yaml").string(), text);
    CHECK(config_differences({a.string(), e.string()}) ==
          std::vector<std::string>{"regularizers.1.direction.0", "regularizers.1.direction.1"});
    CHECK(config_differences({a.string(), e.string()}, {"regularizers.anchor.direction"}).empty());  // by name
    CHECK_THAT(pooling_warning({"x", "y"}, 3), Catch::Contains("3 runs") && Catch::Contains("x, y"));
    for (const auto& p : {a, b, c, d, e}) fs::remove_all(p);
}

TEST_CASE("sca select and sca report warn before pooling runs of different experiments", "[cli][pooling]") {
    const fs::path root = test::fresh_dir("pool-cli");
    auto sh = [&](const std::string& cmd, std::string* out) {
        const std::string log = (root / "log").string();
        const int s = std::system((cmd + " > '" + log + "' 2>&1").c_str());
        *out = read_file(log);
        return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    };
    const std::string sca = SCA_BINARY, anchored = std::string(SCA_SOURCE_DIR) + "/experiments/anchored.yaml";
    std::string out;
    fs::create_directories(root / "runs");
    for (const std::string& run : {"seed1", "seed2"})
        REQUIRE(sh(sca + " train " + anchored + " seed=" + run.substr(4) + " -q --backend cpu --out '" +
                       (root / "runs" / run).string() + "'",
                   &out) == 0);
    REQUIRE(sh(sca + " select '" + (root / "runs/seed1").string() + "' '" + (root / "runs/seed2").string() + "'", &out) == 0);
    CHECK_THAT(out, !Catch::Contains("warning"));
    REQUIRE(sh(sca + " train " + anchored + " schedule.keyframes.2.anchor=0.2 -q --backend cpu --out '" +
                   (root / "runs/other").string() + "'",
               &out) == 0);
    REQUIRE(sh(sca + " select '" + (root / "runs/seed1").string() + "' '" + (root / "runs/other").string() + "'", &out) == 0);
    CHECK_THAT(out, Catch::Contains("warning") && Catch::Contains("schedule.keyframes.2.anchor") &&
                        Catch::Contains("not all one experiment"));
    // The report groups the three runs (same objectives) and says so too; /bin/true stands in for the drawing.
    REQUIRE(sh(sca + " report '" + (root / "runs").string() + "' --python /bin/true", &out) == 0);
    CHECK_THAT(out, Catch::Contains("warning") && Catch::Contains("schedule.keyframes.2.anchor"));
    CHECK_THAT(read_file((root / "runs/report/manifest.json").string()), Catch::Contains("\"warning\""));
    fs::remove_all(root);
}
