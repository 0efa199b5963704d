// Bad input: every validation error names the file, the line and the key.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "host/io/errors.hpp"

using namespace sca;
using test::config_error_of;
using test::replaced;

namespace {

const std::string kGood = R"(seed: 1
model: {latent: 4, hidden: 8, layers: 1}
labels:
  red: {function: redness, power: 8, scale: 0.08}
regularizers:
  - {name: separate, kind: separate}
  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0], labels: {red: 1}}
schedule:
  keyframes:
    - {step: 0, lr: 0.01, anchor: 0.1, separate: 0.01}
    - {step: 100, lr: 0.01}
)";

}  // namespace

TEST_CASE("a good config loads", "[config]") {
    const auto cfg = parse_experiment(kGood, "exp.yaml");
    CHECK(cfg.seed == 1);
    CHECK(cfg.model.latent == 4);
    CHECK(cfg.regularizers.size() == 2);
    CHECK(cfg.regularizers[1].affinities.size() == 1);
    CHECK(cfg.warnings.empty());
}

TEST_CASE("unknown keys are errors naming file, line and key", "[config][errors]") {
    CHECK(config_error_of(replaced(kGood, "seed: 1", "sed: 1")) ==
          "exp.yaml:1: sed: unknown key (expected one of: seed, backend, model, data, labels, regularizers, schedule, checkpoint, init, evaluation)");
    CHECK_THAT(config_error_of(replaced(kGood, "hidden: 8", "hiden: 8")), Catch::StartsWith("exp.yaml:2: model.hiden: unknown key"));
    CHECK_THAT(config_error_of(replaced(kGood, "kind: separate}", "kind: separate, shfit: true}")),
               Catch::StartsWith("exp.yaml:6: regularizers.0.shfit: unknown key"));
}

TEST_CASE("wrong types are errors saying what was expected", "[config][errors]") {
    CHECK(config_error_of(replaced(kGood, "seed: 1", "seed: one")) == "exp.yaml:1: seed: expected a non-negative integer, got 'one'");
    CHECK_THAT(config_error_of(replaced(kGood, "latent: 4", "latent: [4]")), Catch::Contains("model.latent: expected an integer, got a list"));
    CHECK_THAT(config_error_of(replaced(kGood, "power: 8", "power: high")), Catch::Contains("exp.yaml:4: labels.red.power: expected a number"));
    CHECK_THAT(config_error_of(replaced(kGood, "lr: 0.01, anchor", "lr: fast, anchor")), Catch::Contains("exp.yaml:10: schedule.keyframes.0.lr: expected a number"));
}

TEST_CASE("shapes and ranges are checked against the model", "[config][errors]") {
    CHECK(config_error_of(replaced(kGood, "direction: [1, 0, 0, 0]", "direction: [1, 0, 0]")) ==
          "exp.yaml:7: regularizers.1.direction: has 3 entries but model.latent is 4");
    CHECK_THAT(config_error_of(replaced(kGood, "direction: [1, 0, 0, 0]", "direction: [0, 0, 0, 0]")), Catch::Contains("must not be the zero vector"));
    CHECK_THAT(config_error_of(replaced(kGood, "{name: separate, kind: separate}", "{name: sub, kind: subspace, dims: [0, 4]}")),
               Catch::Contains("regularizers.0.dims.1: dim 4 is out of range [0, 4)"));
    CHECK_THAT(config_error_of(replaced(kGood, "latent: 4", "latent: 400")), Catch::Contains("model.latent: must be between 1 and 256, got 400"));
    CHECK_THAT(config_error_of(replaced(kGood, "labels: {red: 1}", "labels: {blue: 1}")), Catch::Contains("regularizers.1.labels.blue: names no label"));
    CHECK_THAT(config_error_of(replaced(kGood, "kind: separate", "kind: seperate")), Catch::Contains("unknown kind 'seperate'"));
    CHECK_THAT(config_error_of(replaced(kGood, "function: redness", "function: redish")), Catch::Contains("unknown label function 'redish'"));
}

TEST_CASE("schedule problems are errors and nothing is trained", "[config][errors]") {
    CHECK_THAT(config_error_of(replaced(kGood, "separate: 0.01}", "separat: 0.01}")),
               Catch::Contains("schedule.separat: names no regularizer (expected one of: lr, separate, anchor)"));
    CHECK_THAT(config_error_of(replaced(kGood, "{step: 100, lr: 0.01}", "{step: 0, lr: 0.01}")),
               Catch::Contains("exp.yaml:11: step: absolute step 0 does not come after step 0 (exp.yaml:10)"));
    CHECK_THAT(config_error_of(replaced(kGood, "{step: 100, lr: 0.01}", "{step: +0.5, lr: 0.01}")),
               Catch::Contains("exp.yaml:11: step: '+0.5' is a fraction of the span between absolute rows"));
    CHECK_THAT(config_error_of(replaced(replaced(kGood, "lr: 0.01, anchor", "anchor"), "{step: 100, lr: 0.01}", "{step: 100, anchor: 0.2}")),
               Catch::Contains("schedule.lr: is never keyed"));
    CHECK_THAT(config_error_of(replaced(kGood, "anchor: 0.1, separate", "anchor: -0.1, separate")), Catch::Contains("is negative"));
}

TEST_CASE("a regularizer missing from the schedule warns and gets weight 1", "[config]") {
    const auto cfg = parse_experiment(replaced(kGood, ", separate: 0.01}", "}"), "exp.yaml");
    REQUIRE(cfg.warnings.size() == 1);
    CHECK_THAT(cfg.warnings[0], Catch::Contains("'separate' is not in the schedule"));
    CHECK(cfg.weights_at(50)[0] == 1.0f);
}

TEST_CASE("command-line overrides set dotted keys, by index or by name", "[config][overrides]") {
    const auto cfg = parse_experiment(kGood, "exp.yaml", {"seed=3", "model.hidden=12", "regularizers.anchor.direction=[0, 1, 0, 0]",
                                                          "schedule.keyframes.1.step=200"});
    CHECK(cfg.seed == 3);
    CHECK(cfg.model.hidden == 12);
    CHECK(cfg.regularizers[1].params.dir[1] == Approx(1.0f));
    CHECK(cfg.last_step() == 200);
    CHECK(cfg.document["seed"].as<int>() == 3);  // the resolved config records the override
}

TEST_CASE("bad overrides name the override", "[config][overrides][errors]") {
    CHECK(config_error_of(kGood, {"seed"}) == "command-line override 'seed': expected key.path=value");
    CHECK(config_error_of(kGood, {"seed=-2"}) == "command-line override 'seed=-2': seed: expected a non-negative integer, got '-2'");
    CHECK_THAT(config_error_of(kGood, {"regularizers.nope.power=3"}), Catch::Contains("no element 'nope' in this list"));
    CHECK_THAT(config_error_of(kGood, {"model.depth=3"}), Catch::Contains("command-line override 'model.depth=3': model.depth: unknown key"));
    CHECK_THAT(config_error_of(kGood, {"seed.x=1"}), Catch::Contains("is not a mapping"));
}

TEST_CASE("YAML syntax errors give the line", "[config][errors]") {
    CHECK_THAT(config_error_of("seed: 1\nmodel: {latent: 4\n"), Catch::StartsWith("exp.yaml:"));
    CHECK(config_error_of("") == "exp.yaml: the file is empty");
    CHECK_THAT(config_error_of("- 1\n- 2\n"), Catch::Contains("expected a mapping at the top level"));
    CHECK_THROWS_WITH(load_experiment("/nonexistent/x.yaml"), Catch::Contains("/nonexistent/x.yaml: cannot read the config file"));
}

TEST_CASE("the four paper experiments load without warnings", "[config][paper]") {
    for (const char* name : {"anchored.yaml", "anchored-subspace.yaml", "isolated.yaml", "isolated-anti-subspace.yaml"}) {
        INFO(name);
        const auto cfg = load_experiment(test::experiment_path(name));
        CHECK(cfg.warnings.empty());
        CHECK(cfg.last_step() == 1500);
        CHECK(cfg.batch == 64);
        CHECK(cfg.grid == 8);
    }
}
