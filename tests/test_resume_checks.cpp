// Issue 14, class 5: --resume continues only what belongs together. The
// optimizer state records a hash of config.yaml and of the training log up to
// its step; an edited config, another run's state, and logs that are missing,
// truncated, edited or out of step are refused in one line (exit 1).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/config/checkpoint.hpp"
#include "host/io/errors.hpp"
#include "host/train/run.hpp"

using namespace sca;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> short_run(std::vector<std::string> more = {}) {
    std::vector<std::string> o{"schedule.keyframes.4.step=60", "schedule.keyframes.2.step=40", "checkpoint.every=10"};
    o.insert(o.end(), more.begin(), more.end());
    return o;
}

// A run of the anchored setup stopped after step 29 (state at step 30).
fs::path stopped_run(const std::string& name, std::vector<std::string> more = {}) {
    const fs::path dir = test::fresh_dir(name);
    TrainOptions o = test::quiet_options(dir);
    o.stop_after = 29;
    train_run(load_experiment(test::experiment_path("anchored.yaml"), short_run(std::move(more))), o);
    return dir;
}

std::string resume_error(const fs::path& dir) {
    try {
        resume_run(dir.string(), test::quiet_options(dir));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

std::string lines_of(const std::string& text, size_t first, size_t count) {
    std::string out;
    size_t pos = 0, line = 0;
    while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        const std::string l = text.substr(pos, end - pos + 1);
        if (line >= first && line < first + count) out += l;
        ++line;
        pos = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("a config.yaml edited since the run started, or another run's state, is refused", "[hardening][resume]") {
    const fs::path dir = stopped_run("resume edited");
    const std::string config = read_file((dir / run_files::kConfig).string());
    const std::string state = read_file((dir / run_files::kOptimizer).string());
    // Any edit, even one that keeps the same shape (another seed, another lr).
    const auto every = config.find("every: 10");
    REQUIRE(every != std::string::npos);
    write_file_atomic((dir / run_files::kConfig).string(), std::string(config).replace(every, 9, "every: 20"));
    const std::string edited = resume_error(dir);
    CHECK_THAT(edited, Catch::Contains("config.yaml differs from the config") && Catch::Contains("optimizer.safetensors"));
    CHECK(edited.find('\n') == std::string::npos);
    write_file_atomic((dir / run_files::kConfig).string(), config + "# a comment\n");
    CHECK_THAT(resume_error(dir), Catch::Contains("config.yaml differs"));
    write_file_atomic((dir / run_files::kConfig).string(), config);
    // Another run's state (same shape, another seed) copied in.
    const fs::path other = stopped_run("resume other", {"seed=9"});
    write_file_atomic((dir / run_files::kOptimizer).string(), read_file((other / run_files::kOptimizer).string()));
    CHECK_THAT(resume_error(dir), Catch::Contains("config.yaml differs from the config") &&
                                      Catch::Contains("another run's"));
    // A state that records no hash (not written for this run) is refused too.
    TrainState s = load_train_state((other / run_files::kOptimizer).string(), parse_experiment(config, "c").model);
    save_train_state((dir / run_files::kOptimizer).string(), parse_experiment(config, "c").model, s, {});
    CHECK_THAT(resume_error(dir), Catch::Contains("records no config hash"));
    // Nothing was changed by the refusals; the right pair resumes to the end.
    write_file_atomic((dir / run_files::kOptimizer).string(), state);
    CHECK(resume_run(dir.string(), test::quiet_options(dir)).finished);
    fs::remove_all(dir);
    fs::remove_all(other);
}

TEST_CASE("a training log that is missing, truncated, edited or out of step is refused", "[hardening][resume]") {
    const fs::path dir = stopped_run("resume logs");
    const fs::path log = dir / run_files::kTrainLog;
    const std::string text = read_file(log.string());  // header + rows 0..29
    auto with_log = [&](const std::string& t) {
        write_file_atomic(log.string(), t);
        return resume_error(dir);
    };
    fs::remove(log);
    CHECK_THAT(resume_error(dir), Catch::Contains("train_log.csv is missing") && Catch::Contains("at step 30"));
    CHECK_THAT(with_log(lines_of(text, 0, 21)), Catch::Contains("ends at step 19") && Catch::Contains("truncated"));
    CHECK_THAT(with_log(lines_of(text, 0, 1)), Catch::Contains("ends at step -1"));
    // A row edited inside the part the state covers.
    std::string edited = text;
    edited[edited.find("\n5,") + 4] ^= 1;
    CHECK_THAT(with_log(edited), Catch::Contains("does not match") && Catch::Contains("edited"));
    // Rows missing, repeated or added out of order.
    CHECK_THAT(with_log(lines_of(text, 0, 5) + lines_of(text, 6, 40)), Catch::Contains("step 5 where step 4 was expected"));
    CHECK_THAT(with_log(text + lines_of(text, 30, 1)), Catch::Contains("step 29 where step 30 was expected"));
    CHECK_THAT(with_log(text + "31" + lines_of(text, 30, 1).substr(2)), Catch::Contains("step 31 where step 30 was expected"));
    // A log longer than the state by whole consecutive steps is what a kill
    // between a checkpoint's writes leaves (logs first, state last): those
    // rows are dropped and trained again, ending as an uninterrupted run.
    const fs::path whole = test::fresh_dir("resume logs whole");
    train_run(load_experiment(test::experiment_path("anchored.yaml"), short_run()), test::quiet_options(whole));
    const std::string longer = lines_of(read_file((whole / run_files::kTrainLog).string()), 0, 41);
    CHECK(with_log(longer) == "no error");
    for (const char* f : {run_files::kModel, run_files::kOptimizer, run_files::kTrainLog, run_files::kValidation})
        CHECK(read_file((dir / f).string()) == read_file((whole / f).string()));
    fs::remove_all(dir);
    fs::remove_all(whole);
}

TEST_CASE("sca train --resume refuses --out and --overwrite instead of ignoring them", "[hardening][resume][cli]") {
    const fs::path dir = stopped_run("resume out");
    const fs::path log = fs::temp_directory_path() / ("sca_test_resume_cli-" + std::to_string(::getpid()) + ".log");
    auto run = [&](const std::string& args) {
        const int s = std::system((std::string(SCA_BINARY) + " train --resume '" + dir.string() + "' " + args + " > '" +
                                   log.string() + "' 2>&1").c_str());
        return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    };
    const auto before = read_file((dir / run_files::kOptimizer).string());
    CHECK(run("--out elsewhere -q") == 2);
    CHECK_THAT(read_file(log.string()), Catch::Contains("takes no --out") && Catch::Contains("elsewhere"));
    CHECK(run("--overwrite -q") == 2);
    CHECK_FALSE(fs::exists("elsewhere"));
    CHECK(read_file((dir / run_files::kOptimizer).string()) == before);
    // The edited-config refusal through the CLI: exit 1, one line.
    const std::string config = read_file((dir / run_files::kConfig).string());
    write_file_atomic((dir / run_files::kConfig).string(), config + "# edited\n");
    CHECK(run("-q --no-eval") == 1);
    const std::string out = read_file(log.string());
    CHECK_THAT(out, Catch::StartsWith("error: ") && Catch::Contains("config.yaml differs"));
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    fs::remove(log);
    fs::remove_all(dir);
}
