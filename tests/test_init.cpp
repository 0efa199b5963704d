// Fine-tuning: `init:` (sca train --init RUN) starts training from a trained
// model with fresh Adam state; the shape must match; a resume keeps the init.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/eval/interventions.hpp"

using namespace sca;
namespace fs = std::filesystem;

namespace {

// lr 0 at every step: Adam moves nothing, so the final model is the start.
const std::string kFrozen = R"(seed: 7
model: {latent: 4, hidden: 8, layers: 1}
schedule:
  keyframes:
    - {step: 0, lr: 0}
    - {step: 20}
)";

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides) {
    try {
        parse_experiment(yaml, "exp.yaml", overrides);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("init: training starts from the given model, not the seed", "[init][training]") {
    const fs::path base = test::fresh_dir("init-base"), tuned = test::fresh_dir("init-tuned");
    auto cfg = parse_experiment(kFrozen, "exp.yaml", {"seed=3", "schedule.keyframes.0.lr=0.01"});
    train_run(cfg, test::quiet_options(base));
    const Model source = load_model((base / "model.safetensors").string());

    const auto tuned_cfg = parse_experiment(kFrozen, "exp.yaml", {"init=" + base.string()});
    CHECK(tuned_cfg.init == fs::absolute(base / "model.safetensors").lexically_normal().string());
    train_run(tuned_cfg, test::quiet_options(tuned));
    CHECK(load_model((tuned / "model.safetensors").string()).params == source.params);
    // The run's own config names the absolute model file, so it reloads anywhere.
    CHECK(load_experiment((tuned / "config.yaml").string()).init == tuned_cfg.init);

    // Without init the same frozen config keeps the seed's initialization instead.
    const fs::path plain = test::fresh_dir("init-plain");
    train_run(parse_experiment(kFrozen, "exp.yaml"), test::quiet_options(plain));
    CHECK(load_model((plain / "model.safetensors").string()).params != source.params);

    // Killed before its first checkpoint, a resume starts from the init again.
    fs::remove(tuned / "optimizer.safetensors");
    fs::remove(tuned / "model.safetensors");
    TrainOptions o = test::quiet_options(tuned);
    resume_run(tuned.string(), o);
    CHECK(load_model((tuned / "model.safetensors").string()).params == source.params);
    for (const auto& d : {base, tuned, plain}) fs::remove_all(d);
}

TEST_CASE("init: a model of another shape or no model at all is refused before training", "[init][errors]") {
    const fs::path base = test::fresh_dir("init-shape");
    train_run(parse_experiment(kFrozen, "exp.yaml"), test::quiet_options(base));
    const std::string wrong = error_of(kFrozen, {"init=" + base.string(), "model.latent=5"});
    CHECK_THAT(wrong, Catch::Contains("init") && Catch::Contains("latent 4") && Catch::Contains("latent 5") &&
                          Catch::Contains("same shape"));
    CHECK_THAT(error_of(kFrozen, {"init=" + (base / "nothing").string()}),
               Catch::Contains("init") && Catch::Contains("is not a model file"));
    CHECK_THAT(error_of(kFrozen, {"init=" + (base / "config.yaml").string()}),
               Catch::Contains("init") && Catch::Contains("not a readable model"));
    fs::remove_all(base);
}

TEST_CASE("sca train --init RUN fine-tunes and --init with --resume is refused", "[init][cli]") {
    const fs::path base = test::fresh_dir("init-cli-base"), tuned = test::fresh_dir("init-cli-tuned");
    auto status = [](int s) { return WIFEXITED(s) ? WEXITSTATUS(s) : -1; };
    const std::string sca = std::string(SCA_BINARY) + " train " + SCA_SOURCE_DIR + "/experiments/";
    REQUIRE(status(std::system((sca + "isolated.yaml --out '" + base.string() +
                                "' -q --no-eval --backend cpu")
                                   .c_str())) == 0);
    // The same shape (K 5, N 2): fine-tune into the anti-subspace-only setup.
    REQUIRE(status(std::system((sca + "isolated-anti-subspace.yaml --init '" +
                                base.string() + "' --out '" + tuned.string() + "' -q --no-eval --backend cpu")
                                   .c_str())) == 0);
    CHECK_THAT(read_file((tuned / "config.yaml").string()), Catch::Contains("init:"));
    // Another shape (anchored: K 4, N 1) stops with exit 2 and says why.
    CHECK(status(std::system((sca + "anchored.yaml --init '" + base.string() + "' --out '" + tuned.string() +
                              "-x' -q 2>/dev/null")
                                 .c_str())) == 2);
    CHECK(!fs::exists(tuned.string() + "-x/model.safetensors"));
    CHECK(status(std::system((std::string(SCA_BINARY) + " train --resume '" + tuned.string() + "' --init '" +
                              base.string() + "' 2>/dev/null")
                                 .c_str())) != 0);
    fs::remove_all(base);
    fs::remove_all(tuned);
    fs::remove_all(tuned.string() + "-x");
}
