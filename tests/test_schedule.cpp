// Schedule semantics of docs/method.md §5: step syntax, interpolators, spaces, back-fill
// and hold, the paper's schedules at chosen steps, and CSV == YAML.
#include <catch2/catch.hpp>

#include <cmath>

#include "helpers.hpp"
#include "host/io/errors.hpp"
#include "host/config/schedule.hpp"

using namespace sca;

namespace {

KeyframeRow row(const std::string& step, std::map<std::string, double> values = {}) {
    return KeyframeRow{step, std::move(values), "test:" + step};
}

std::vector<int> resolve(std::vector<KeyframeRow> rows) { return build_schedule(std::move(rows), {}, "test").row_steps; }

double minjerk(double v0, double v1, double u) { return v0 + (v1 - v0) * (10 * std::pow(u, 3) - 15 * std::pow(u, 4) + 6 * std::pow(u, 5)); }

}  // namespace

TEST_CASE("relative steps resolve against the nearest absolute rows", "[schedule]") {
    CHECK(resolve({row("0"), row("+10"), row("750")}) == std::vector<int>{0, 10, 750});
    CHECK(resolve({row("0"), row("-10"), row("750")}) == std::vector<int>{0, 740, 750});
    // +F = prev + F (next - prev), rounded half to even: 0.33 * 750 = 247.5 -> 248.
    CHECK(resolve({row("0"), row("+0.33"), row("750")}) == std::vector<int>{0, 248, 750});
    CHECK(resolve({row("0"), row("+0.5"), row("5")}) == std::vector<int>{0, 2, 5});   // 2.5 -> 2
    CHECK(resolve({row("0"), row("+0.5"), row("7")}) == std::vector<int>{0, 4, 7});   // 3.5 -> 4
    CHECK(resolve({row("0"), row("-0.25"), row("100")}) == std::vector<int>{0, 75, 100});
    // Relative rows never chain: both +10 rows resolve against step 0.
    CHECK(resolve({row("0"), row("+10"), row("+10"), row("50")}) == std::vector<int>{0, 10, 10, 50});
    // +0.9 after 750 with 1500 next: 750 + 675 = 1425.
    CHECK(resolve({row("750"), row("+0.9"), row("1500")}) == std::vector<int>{750, 1425, 1500});
}

TEST_CASE("bad steps are errors naming the row", "[schedule][errors]") {
    auto message = [](std::vector<KeyframeRow> rows) {
        try {
            build_schedule(std::move(rows), {}, "test");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(message({row("10"), row("5")}), Catch::Contains("test:5") && Catch::Contains("does not come after step 10"));
    CHECK_THAT(message({row("+0.5"), row("10")}), Catch::Contains("no absolute row before it"));
    CHECK_THAT(message({row("0"), row("+0.5")}), Catch::Contains("no absolute row after it"));
    CHECK_THAT(message({row("0"), row("-5")}), Catch::Contains("needs an absolute row after it"));
    CHECK_THAT(message({row("0"), row("+20"), row("10")}), Catch::Contains("outside its absolute neighbours"));
    CHECK_THAT(message({row("0"), row("+1.5"), row("10")}), Catch::Contains("0 < F < 1"));
    CHECK_THAT(message({row("zero")}), Catch::Contains("expected a step"));
    CHECK_THAT(message({row("0", {{"lr", 1}}), row("+0", {{"lr", 2}}), row("9")}), Catch::Contains("keyed twice at step 0"));
}

TEST_CASE("each interpolator and space between two keys, with back-fill and hold", "[schedule]") {
    for (auto [interp, name] : {std::pair{Interp::Linear, "linear"}, {Interp::MinJerk, "minjerk"}, {Interp::Step, "step"}}) {
        INFO(name);
        const auto s = build_schedule({row("10", {{"p", 2.0}}), row("30", {{"p", 4.0}})}, {{"p", {Space::Linear, interp}}}, "test");
        CHECK(*s.value("p", 0) == 2.0);   // before the first key: its value
        CHECK(*s.value("p", 10) == 2.0);
        CHECK(*s.value("p", 30) == 4.0);
        CHECK(*s.value("p", 99) == 4.0);  // after the last key: held
        const double u = 5.0 / 20.0;
        const double expected = interp == Interp::Linear ? 2.0 + 2.0 * u : interp == Interp::MinJerk ? minjerk(2, 4, u) : 2.0;
        CHECK(*s.value("p", 15) == Approx(expected).epsilon(1e-15));
    }
    const auto log = build_schedule({row("0", {{"lr", 1e-8}}), row("10", {{"lr", 1e-2}})}, {{"lr", {Space::Log, Interp::Linear}}}, "test");
    CHECK(*log.value("lr", 5) == Approx(1e-5).epsilon(1e-12));  // geometric midpoint
    const auto floored = build_schedule({row("0", {{"w", 0.0}}), row("10", {{"w", 1.0}})}, {{"w", {Space::Log, Interp::Linear}}}, "test");
    CHECK(*floored.value("w", 5) == Approx(1e-5).epsilon(1e-12));  // 0 floored at 1e-10
    CHECK_FALSE(log.value("never", 3).has_value());
}

TEST_CASE("each property interpolates over its own keys only", "[schedule]") {
    // b is not keyed at step 50, so between 0 and 100 it follows one curve.
    const auto s = build_schedule({row("0", {{"a", 0}, {"b", 0}}), row("50", {{"a", 1}}), row("100", {{"a", 0}, {"b", 1}})}, {}, "test");
    CHECK(*s.value("b", 50) == Approx(minjerk(0, 1, 0.5)));
    CHECK(*s.value("a", 50) == 1.0);
    CHECK(s.last_step == 100);
}

TEST_CASE("the paper's isolated schedule at chosen steps", "[schedule][paper]") {
    const auto cfg = load_experiment(test::experiment_path("isolated.yaml"));
    const auto& s = cfg.schedule;
    CHECK(cfg.last_step() == 1500);
    CHECK(cfg.validation_interval() == 150);
    CHECK(s.row_steps == std::vector<int>{0, 10, 248, 750, 1425, 1500});
    CHECK(*s.value("lr", 0) == 1e-8);
    CHECK(*s.value("lr", 10) == 0.01);
    CHECK(*s.value("lr", 380) == Approx(minjerk(0.01, 0.1, 370.0 / 740.0)));
    CHECK(*s.value("lr", 1000) == 0.1);
    CHECK(*s.value("lr", 1500) == 0.05);
    // separate: first keyed at 248 (back-filled before), then 750, then 0 at 1425.
    CHECK(*s.value("separate", 0) == 0.01);
    CHECK(*s.value("separate", 500) == Approx(minjerk(0.01, 0.001, 252.0 / 502.0)));
    CHECK(*s.value("separate", 1500) == 0.0);
    // anti-anchor: 0 at 0, 0.05 at 248, 0 at 1425 (not keyed at 750).
    CHECK(*s.value("anti-anchor", 100) == Approx(minjerk(0, 0.05, 100.0 / 248.0)));
    CHECK(*s.value("anti-anchor", 750) == Approx(minjerk(0.05, 0, 502.0 / 1177.0)));
    // anti-subspace: 0.25 at 0, 0.003 at 750, 0 at 1425.
    CHECK(*s.value("anti-subspace", 375) == Approx(minjerk(0.25, 0.003, 0.5)));
    CHECK(cfg.weights_at(1425) == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("the other paper schedules resolve as in docs/method.md §6", "[schedule][paper]") {
    const auto a = load_experiment(test::experiment_path("anchored.yaml"));
    CHECK(a.schedule.row_steps == std::vector<int>{0, 10, 750, 1425, 1500});
    CHECK(*a.schedule.value("separate", 0) == 0.015);  // back-filled from its first key at 750
    CHECK(*a.schedule.value("anchor", 300) == Approx(minjerk(0.01, 0.1, 0.4)));
    const auto s = load_experiment(test::experiment_path("anchored-subspace.yaml"));
    CHECK(s.schedule.row_steps == std::vector<int>{0, 10, 375, 750, 1125, 1425, 1500});
    CHECK(*s.schedule.value("subspace", 750) == 0.1);  // held between its keys at 375 and 1125
    CHECK(*s.schedule.value("subspace", 1300) == Approx(minjerk(0.1, 0, 175.0 / 300.0)));
    const auto i = load_experiment(test::experiment_path("isolated-anti-subspace.yaml"));
    CHECK(i.schedule.row_steps == std::vector<int>{0, 10, 248, 495, 750, 1425, 1500});
    CHECK(*i.schedule.value("anchor", 750) == Approx(0.12));
}

TEST_CASE("a CSV dopesheet and the YAML keyframes give identical schedules", "[schedule]") {
    const auto yaml = load_experiment(test::experiment_path("isolated.yaml"));
    const auto csv = load_experiment(test::experiment_path("isolated.yaml"), {"schedule={csv: dopesheets/isolated.csv}"});
    REQUIRE(csv.last_step() == yaml.last_step());
    for (int t = 0; t <= yaml.last_step(); ++t) {
        INFO("step " << t);
        REQUIRE(csv.lr_at(t) == yaml.lr_at(t));
        REQUIRE(csv.weights_at(t) == yaml.weights_at(t));
    }
}

TEST_CASE("dopesheet headers carry space and interpolator", "[schedule]") {
    const auto s = parse_dopesheet_csv("STEP,PHASE,ACTION,lr:log:linear,w::step\n0,,,1e-8,1\n10,,,1e-2,3\n", "sheet.csv");
    CHECK(*s.value("lr", 5) == Approx(1e-5).epsilon(1e-12));
    CHECK(*s.value("w", 9) == 1.0);
    CHECK_THROWS_WITH(parse_dopesheet_csv("STEP,lr:cubic\n0,1\n", "sheet.csv"), Catch::Contains("sheet.csv:1") && Catch::Contains("unknown space 'cubic'"));
    CHECK_THROWS_WITH(parse_dopesheet_csv("STEP,lr\n0,abc\n", "sheet.csv"), Catch::Contains("sheet.csv:2: lr: 'abc' is not a finite number"));
    CHECK_THROWS_WITH(parse_dopesheet_csv("PHASE,lr\n0,1\n", "sheet.csv"), Catch::Contains("no STEP column"));
}
