// The eval, select and paper commands end to end, and the outputs read from
// outside our code (PyTorch and numpy, tools/check-evaluation.py).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sys/wait.h>

#include "host/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kSca = SCA_BINARY;
const std::string kSource = SCA_SOURCE_DIR;

// Runs a shell command; returns its exit status, stdout+stderr in `output`.
int sh(const std::string& command, std::string* output = nullptr) {
    const fs::path log = fs::temp_directory_path() / ("sca_test_eval_cli-" + std::to_string(::getpid()) + ".log");
    const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
    if (output) *output = sca::read_file(log.string());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path fresh(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));  // ctest -j runs cases side by side
    fs::remove_all(d);
    return d;
}

}  // namespace

TEST_CASE("sca train evaluates a finished run, sca eval reruns it with command-line interventions", "[cli][evaluation]") {
    const fs::path run = fresh("sca_test_cli_run");
    std::string out;
    REQUIRE(sh(kSca + " train " + kSource + "/experiments/isolated.yaml seed=2 --out " + run.string(), &out) == 0);
    CHECK_THAT(out, Catch::Contains("colour") && Catch::Contains("suppressed") && Catch::Contains("ablated") &&
                        Catch::Contains("score r^2") && Catch::Contains("0.3333"));
    CHECK(fs::exists(run / "evaluation.json"));
    CHECK(fs::exists(run / "evaluation/rgb_grid.suppressed.outputs.npy"));

    REQUIRE(sh(kSca + " eval " + run.string() + " --prune 0 --ablate 1,2 --suppress 0,1,0,0,0" +
                   " --intervention '{name: soft, kind: suppression, falloff: 0.5, strength: 0.5, power: 2}'",
               &out) == 0);
    CHECK_THAT(out, Catch::Contains("prune-0") && Catch::Contains("ablate-1_2") && Catch::Contains("suppress-0") &&
                        Catch::Contains("soft"));
    CHECK(fs::exists(run / "pruned" / "prune-0.safetensors"));
    // PyTorch and numpy agree with every file written.
    REQUIRE(sh("/usr/bin/python3 " + kSource + "/tools/check-evaluation.py " + run.string(), &out) == 0);
    CHECK_THAT(out, Catch::Contains("checks passed"));

    // A bare checkpoint with a config: prints the table, writes nothing without --out.
    const auto before = fs::last_write_time(run / "evaluation.json");
    REQUIRE(sh(kSca + " eval " + (run / "pruned" / "prune-0.safetensors").string() + " --config " + kSource +
                   "/experiments/isolated.yaml --only --ablate 0",
               &out) == 0);
    CHECK_THAT(out, Catch::Contains("ablate-0"));
    CHECK(fs::last_write_time(run / "evaluation.json") == before);
    // The pruned model has K = 4: the config's 5-wide suppression direction is refused.
    CHECK(sh(kSca + " eval " + (run / "pruned" / "prune-0.safetensors").string() + " --config " + kSource + "/experiments/isolated.yaml",
             &out) == 2);
    CHECK_THAT(out, Catch::Contains("has 5 entries") || Catch::Contains("4 numbers"));
    // Each flag takes one value: the run directory after it stays the target.
    CHECK(sh(kSca + " eval --ablate 0 " + run.string() + " --no-grids --only -q --out " + (run / "again").string()) == 0);
    CHECK(fs::exists(run / "again" / "evaluation.json"));
    CHECK(sh(kSca + " eval " + run.string() + " --ablate 9", &out) == 2);
    CHECK_THAT(out, Catch::Contains("--ablate '9'") && Catch::Contains("out of range"));
}

TEST_CASE("sca eval --only writes beside the run evaluation unless --overwrite replaces it and drops stale grids", "[cli][evaluation]") {
    const fs::path run = fresh("sca_test_cli_only");
    REQUIRE(sh(kSca + " train " + kSource + "/experiments/isolated.yaml seed=1 -q --out " + run.string()) == 0);
    const std::string full = sca::read_file((run / "evaluation.json").string());
    REQUIRE(fs::exists(run / "evaluation/rgb_grid.suppressed.latents.npy"));

    std::string out;
    REQUIRE(sh(kSca + " eval " + run.string() + " --only --ablate 1", &out) == 0);
    CHECK_THAT(out, Catch::Contains("only-ablate-1"));
    CHECK(sca::read_file((run / "evaluation.json").string()) == full);  // the run's evaluation is untouched
    CHECK(fs::exists(run / "evaluation/rgb_grid.suppressed.latents.npy"));
    const std::string only = sca::read_file((run / "only-ablate-1/evaluation.json").string());
    CHECK_THAT(only, Catch::Contains("\"ablate-1\"") && !Catch::Contains("\"suppressed\"") &&
                         Catch::Contains("\"model\": \"../model.safetensors\""));
    CHECK(fs::exists(run / "only-ablate-1/evaluation/rgb_grid.ablate-1.outputs.npy"));

    // --overwrite replaces the run's evaluation and drops the grids of the variants it no longer has.
    REQUIRE(sh(kSca + " eval " + run.string() + " --only --overwrite --ablate 1 -q") == 0);
    CHECK_THAT(sca::read_file((run / "evaluation.json").string()),
               Catch::Contains("\"ablate-1\"") && !Catch::Contains("\"suppressed\""));
    CHECK(fs::exists(run / "evaluation/rgb_grid.ablate-1.outputs.npy"));
    CHECK(fs::exists(run / "evaluation/rgb_grid.baseline.outputs.npy"));
    CHECK(!fs::exists(run / "evaluation/rgb_grid.suppressed.latents.npy"));
    CHECK(!fs::exists(run / "evaluation/hsv_grid.ablated.outputs.npy"));
    // Every file the new evaluation names is there (tools/check-evaluation.py reads them all).
    REQUIRE(sh("/usr/bin/python3 " + kSource + "/tools/check-evaluation.py " + run.string(), &out) == 0);
    CHECK(sh(kSca + " eval " + run.string() + " --overwrite --ablate 1 -q", &out) != 0);  // --overwrite needs --only
    fs::remove_all(run);
}

TEST_CASE("sca eval --help examples run on models of both paper shapes (K 4 and K 5)", "[cli][evaluation][help]") {
    std::string help, out;
    REQUIRE(sh(kSca + " eval --help", &help) == 0);
    std::smatch intervention, suppress, ablate, prune;
    REQUIRE(std::regex_search(help, intervention, std::regex(R"(--intervention[^\n]*e\.g\. '([^']*)')")));
    REQUIRE(std::regex_search(help, suppress, std::regex(R"(--suppress[^\n]*e\.g\. ([0-9,]+) \(K = 4\) or ([0-9,]+) \(K = 5\))")));
    REQUIRE(std::regex_search(help, ablate, std::regex(R"(--ablate[^\n]*e\.g\. ([0-9,]+) or ([0-9,]+))")));
    REQUIRE(std::regex_search(help, prune, std::regex(R"(--prune[^\n]*e\.g\. ([0-9,]+))")));
    for (const auto& [setup, direction] : {std::pair{"anchored", suppress[1].str()}, std::pair{"isolated", suppress[2].str()}}) {
        const fs::path run = fresh(std::string("sca_test_help_") + setup);
        REQUIRE(sh(kSca + " train " + kSource + "/experiments/" + setup + ".yaml -q --no-eval --backend cpu --out " + run.string()) == 0);
        const std::string eval = kSca + " eval " + run.string() + " --only --no-grids -q --out " + (run / "help").string();
        CHECK(sh(eval + " --intervention '" + intervention[1].str() + "'", &out) == 0);
        CHECK(sh(eval + " --suppress " + direction, &out) == 0);
        CHECK(sh(eval + " --ablate " + ablate[1].str() + " --ablate " + ablate[2].str(), &out) == 0);
        CHECK(sh(eval + " --prune " + prune[1].str(), &out) == 0);
        INFO(out);
        fs::remove_all(run);
    }
}

TEST_CASE("sca select names the Pareto front and the best run, sca paper writes its marked section", "[cli][selection][paper]") {
    const fs::path dir = fresh("sca_test_cli_paper");
    fs::create_directories(dir);
    const std::string results = (dir / "results.md").string();
    sca::write_file_atomic(results, "# Results\n\nintro\n\n<!-- paper-results:begin -->\nold\n<!-- paper-results:end -->\n\nnotes\n");
    std::string out;
    REQUIRE(sh(kSca + " paper " + kSource + "/experiments/anchored.yaml " + kSource +
                   "/experiments/isolated.yaml --seeds 3 --jobs 2 --out " + (dir / "runs").string() + " --results " + results,
               &out) == 0);
    const std::string doc = sca::read_file(results);
    CHECK_THAT(doc, Catch::StartsWith("# Results\n\nintro\n\n<!-- paper-results:begin -->\nGenerated by `sca paper --seeds 3`"));
    CHECK_THAT(doc, Catch::EndsWith("<!-- paper-results:end -->\n\nnotes\n"));
    CHECK_THAT(doc, !Catch::Contains("\nold\n"));
    CHECK_THAT(doc, Catch::Contains("| anchored | min |") && Catch::Contains("| isolated | min |") &&
                        Catch::Contains("best: seed"));

    const std::string runs = (dir / "runs/anchored/seed-000").string() + " " + (dir / "runs/anchored/seed-001").string() +
                             " " + (dir / "runs/anchored/seed-002").string();
    REQUIRE(sh(kSca + " select " + runs, &out) == 0);
    CHECK_THAT(out, Catch::Contains("score:suppressed") && Catch::Contains("runs on the Pareto front; best:"));
    REQUIRE(sh(kSca + " select --best --score ablated " + runs, &out) == 0);
    CHECK_THAT(out, Catch::Contains("runs/anchored/seed-00"));
    CHECK(sh(kSca + " select --score nothing " + runs, &out) == 2);
    CHECK_THAT(out, Catch::Contains("no intervention 'nothing'"));
    // Runs of different experiments have different objectives.
    CHECK(sh(kSca + " select " + runs + " " + (dir / "runs/isolated/seed-000").string(), &out) == 2);
    CHECK_THAT(out, Catch::Contains("objectives differ"));
}
