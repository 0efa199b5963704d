// Issue 14, class 4: YAML and key=value numbers mean what they say (decimal,
// YAML 1.2 core); an empty value, null, a duplicate key or an unusable
// direction is an error naming the key, never silently another value.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/sweep/sweep.hpp"
#include "host/io/yaml_reader.hpp"

using namespace sca;
using test::config_error_of;
using test::replaced;

namespace {

const std::string kGood = R"(seed: 1
model: {latent: 4, hidden: 8, layers: 1}
data: {grid: 4, batch: 16}
labels:
  red: {function: redness, power: 8, scale: 0.08}
regularizers:
  - {name: separate, kind: separate}
  - {name: anchor, kind: anchor, direction: [1, 0, 0, 0], labels: {red: 1}}
schedule:
  keyframes:
    - {step: 0, lr: 0.01, anchor: 0.1, separate: 0.01}
    - {step: 100, lr: 0.01}
checkpoint: {every: 50}
)";

// The evaluation section is read when a run is evaluated (and checked before training).
std::string evaluation_error_of(const std::string& yaml) {
    try {
        const auto cfg = parse_experiment(yaml, "exp.yaml");
        evaluation_settings(cfg, cfg.model.latent);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("integers and numbers parse as decimal or are refused, never as another value", "[hardening][numbers]") {
    // Each integer key, in the file and as an override: leading zeros, hex, octal, binary.
    const std::vector<std::pair<std::string, std::string>> integer_keys{
        {"seed", "seed: 1"}, {"model.hidden", "hidden: 8"}, {"data.batch", "batch: 16"},
        {"checkpoint.every", "every: 50"}, {"regularizers.0.power", "kind: separate}"}};
    for (const auto& [key, text] : integer_keys)
        for (const std::string bad : {"010", "0x10", "0o10", "0b10", "+010", "1e1", "8.0", "08"}) {
            INFO(key << " = " << bad);
            const std::string local = key.substr(key.rfind('.') + 1);
            const std::string yaml = key == "regularizers.0.power" ? replaced(kGood, text, "kind: separate, power: " + bad + "}")
                                                                   : replaced(kGood, text, local + ": " + bad);
            const std::string file_error = config_error_of(yaml);
            CHECK_THAT(file_error, Catch::Contains(key + ":") && Catch::StartsWith("exp.yaml:"));
            const std::string override_error = config_error_of(kGood, {key + "=" + bad});
            CHECK_THAT(override_error, Catch::Contains("command-line override '" + key + "=" + bad + "'") &&
                                           Catch::Contains(key));
        }
    CHECK_THAT(config_error_of(kGood, {"seed=010"}), Catch::Contains("leading zero"));
    CHECK_THAT(config_error_of(kGood, {"seed=0x10"}), Catch::Contains("not a decimal number"));
    // Decimal forms read as written.
    CHECK(parse_experiment(kGood, "exp.yaml", {"seed=10"}).seed == 10);
    CHECK(parse_experiment(kGood, "exp.yaml", {"seed=+7"}).seed == 7);
    CHECK(parse_experiment(kGood, "exp.yaml", {"seed=0"}).seed == 0);
    CHECK(parse_experiment(kGood, "exp.yaml", {"model.hidden=16"}).model.hidden == 16);
    // Floats: decimal and exponent forms; leading zeros, hex floats and non-finite refused.
    for (const std::string ok : {"0.5", ".5", "5e-3", "1.0e-2", "+0.25", "3"})
        CHECK(config_error_of(kGood, {"schedule.keyframes.1.lr=" + ok}) == "no error");
    CHECK(parse_experiment(kGood, "exp.yaml", {"labels.red.power=.5"}).labels[0].power == 0.5f);
    for (const std::string bad : {"010.5", "0x1p3", "1e400", ".inf", "-.inf", ".nan", "1,5", "1_000"}) {
        INFO(bad);
        CHECK_THAT(config_error_of(kGood, {"schedule.keyframes.1.lr=" + bad}), Catch::Contains("schedule.keyframes.1.lr"));
    }
    CHECK_THAT(config_error_of(kGood, {"schedule.keyframes.1.lr=1e400"}), Catch::Contains("finite"));
    // The evaluation section's integers too.
    CHECK_THAT(evaluation_error_of(kGood + "evaluation: {rgb_grid: 010}\n"), Catch::Contains("exp.yaml:14: evaluation.rgb_grid") &&
                                                                     Catch::Contains("leading zero"));
}

TEST_CASE("an empty value or null where a value is required is an error, not the default", "[hardening][numbers]") {
    CHECK(config_error_of(replaced(kGood, "seed: 1", "seed:")) == "exp.yaml:1: seed: has no value (remove the key to use the default)");
    CHECK_THAT(config_error_of(replaced(kGood, "seed: 1", "seed: null")), Catch::Contains("seed: has no value"));
    CHECK_THAT(config_error_of(replaced(kGood, "seed: 1", "seed: ~")), Catch::Contains("seed: has no value"));
    CHECK_THAT(config_error_of(replaced(kGood, "hidden: 8", "hidden: ")), Catch::Contains("model.hidden: has no value"));
    CHECK_THAT(config_error_of(replaced(kGood, "every: 50", "every: null")), Catch::Contains("checkpoint.every: has no value"));
    CHECK_THAT(config_error_of(replaced(kGood, "power: 8", "power: ")), Catch::Contains("labels.red.power: has no value"));
    CHECK_THAT(config_error_of(kGood, {"seed="}), Catch::Contains("command-line override 'seed='") && Catch::Contains("has no value"));
    CHECK_THAT(config_error_of(kGood, {"model.hidden=null"}), Catch::Contains("has no value"));
    CHECK_THAT(config_error_of(kGood, {"schedule.keyframes.1.lr="}), Catch::Contains("schedule.keyframes.1.lr: expected a number"));
    CHECK_THAT(evaluation_error_of(kGood + "evaluation: {grids: }\n"), Catch::Contains("evaluation.grids: has no value"));
    CHECK_THAT(evaluation_error_of(kGood + "evaluation: {interventions: [{name: a, kind: suppression, falloff: }]}\n"),
               Catch::Contains("falloff: has no value"));
}

TEST_CASE("a key given twice is an error naming it, at any depth and in overrides", "[hardening][numbers]") {
    CHECK(config_error_of("seed: 1\n" + kGood) == "exp.yaml:2: seed: is given twice (each key may appear once)");
    CHECK_THAT(config_error_of(replaced(kGood, "hidden: 8", "hidden: 8, hidden: 16")), Catch::Contains("exp.yaml:2: model.hidden: is given twice"));
    CHECK_THAT(config_error_of(replaced(kGood, "lr: 0.01, anchor", "lr: 0.01, lr: 0.02, anchor")),
               Catch::Contains("schedule.keyframes.0.lr: is given twice"));
    CHECK_THAT(config_error_of(kGood, {"model={latent: 4, hidden: 8, hidden: 9}"}),
               Catch::Contains("command-line override") && Catch::Contains("model.hidden: is given twice"));
    CHECK_THAT(config_error_of(kGood + "evaluation: {rgb_grid: 8, rgb_grid: 4}\n"), Catch::Contains("evaluation.rgb_grid: is given twice"));
    CHECK_THROWS_WITH(parse_intervention("{name: a, kind: ablation, dims: [0], dims: [1]}", 4, "--intervention x"),
                      Catch::Contains("--intervention x: dims: is given twice"));
    CHECK_THROWS_WITH(parse_sweep("base: a.yaml\nbase: b.yaml\n", "s.yaml"), Catch::Contains("s.yaml:2: base: is given twice"));
    CHECK_THROWS_WITH(parse_sweep("slurm: {gpus: 1, gpus: 2}\n", "s.yaml"), Catch::Contains("slurm.gpus: is given twice"));
}

TEST_CASE("sweep integers are decimal too", "[hardening][numbers]") {
    for (const std::string bad : {"010", "0x4", "1e1", "-1", ""}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_sweep("slurm: {shards: " + bad + "}\n", "s.yaml"), Catch::Contains("s.yaml:1: slurm.shards"));
    }
}

TEST_CASE("directions beyond float range, zero or subnormal-only are refused at load with the key named",
          "[hardening][numbers]") {
    for (const std::string dir : {"[1e39, 0, 0, 0]", "[-3.5e38, 1, 0, 0]"}) {
        INFO(dir);
        CHECK_THAT(config_error_of(replaced(kGood, "direction: [1, 0, 0, 0]", "direction: " + dir)),
                   Catch::Contains("exp.yaml:8: regularizers.1.direction.0") && Catch::Contains("beyond the range of a float"));
        CHECK_THROWS_WITH(parse_intervention("{name: s, kind: suppression, direction: " + dir + "}", 4, "--intervention"),
                          Catch::Contains("intervention.direction.0") && Catch::Contains("beyond the range of a float"));
    }
    for (const std::string dir : {"[0, 0, 0, 0]", "[0, -0.0, 0, 0]", "[1e-40, 0, 0, 0]", "[1e-39, -1e-45, 0, 1e-300]"}) {
        INFO(dir);
        CHECK_THAT(config_error_of(replaced(kGood, "direction: [1, 0, 0, 0]", "direction: " + dir)),
                   Catch::Contains("regularizers.1.direction") && Catch::Contains("must not be the zero vector"));
        CHECK_THROWS_WITH(parse_intervention("{name: s, kind: suppression, direction: " + dir + "}", 4, "--intervention"),
                          Catch::Contains("intervention.direction") && Catch::Contains("must not be the zero vector"));
        CHECK_THAT(config_error_of(kGood, {"regularizers.anchor.direction=" + dir}),
                   Catch::Contains("command-line override") && Catch::Contains("must not be the zero vector"));
    }
    // A Euclidean anchor's point may be the origin, but not beyond float range.
    const std::string euclid = replaced(kGood, "kind: anchor, direction: [1, 0, 0, 0]", "kind: anchor, metric: euclidean, point: [0, 0, 0, 0]");
    CHECK(config_error_of(euclid) == "no error");
    CHECK_THAT(config_error_of(euclid, {"regularizers.1.point=[0, 0, 1e39, 0]"}), Catch::Contains("regularizers.1.point.2"));
    // Small but normal entries are fine.
    CHECK(config_error_of(replaced(kGood, "direction: [1, 0, 0, 0]", "direction: [1e-30, 0, 0, 0]")) == "no error");
}
