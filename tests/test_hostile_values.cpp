// Issue 14, classes 1-3: nothing a user writes becomes a command in a
// generated script, no user-chosen name can replace a run's own files, and
// temporary files are created exclusively and cleaned up (docs/reliability.md).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"
#include "host/sweep/sweep.hpp"
#include "host/sweep/sweep_slurm.hpp"

using namespace sca;
using test::shell;
using test::shell_quoted;
namespace fs = std::filesystem;

namespace {

// Shell payloads: each would run `touch pwned` (or add a line) if it reached a shell as code.
const std::vector<std::string> kPayloads = {
    "a\ntouch pwned", "a\rtouch pwned", "a'b; touch pwned; '", "a\"b\"; touch pwned", "$(touch pwned)",
    "`touch pwned`", "a; touch pwned", "a && touch pwned", "a|touch pwned", "a\\\ntouch pwned"};

const char* kTiny = R"(model: {latent: 4, hidden: 8, layers: 1}
data: {grid: 4, batch: 16}
regularizers:
  - {name: separate, kind: separate}
schedule:
  keyframes:
    - {step: 0, lr: 0.01, separate: 0.01}
    - {step: 30, lr: 0.01}
)";

}  // namespace

TEST_CASE("every slurm setting refuses a value that would add a line or a command", "[hardening][slurm]") {
    const fs::path dir = test::fresh_dir("slurm fields");
    fs::create_directories(dir);
    write_file_atomic((dir / "tiny.yaml").string(), kTiny);
    write_file_atomic((dir / "s.yaml").string(), "base: tiny.yaml\n");
    for (const char* field : {"partition", "time", "job_name", "options"})
        for (const auto& payload : kPayloads) {
            const std::string value = nlohmann::json(std::string(field) == "options" ? "--mem=" + payload : payload).dump();
            const std::string yaml = "base: tiny.yaml\nslurm:\n  " + std::string(field) + ": " +
                                     (std::string(field) == "options" ? "[" + value + "]" : value) + "\n";
            INFO(field << " = " << value);
            CHECK_THROWS_WITH(parse_sweep(yaml, (dir / "s.yaml").string()),
                              Catch::Contains("slurm." + std::string(field)) && Catch::Contains("s.yaml:"));
            // The same values from the command line (or any caller) are refused where the script is written.
            SweepSpec spec = parse_sweep("base: tiny.yaml\n", (dir / "s.yaml").string());
            if (std::string(field) == "partition") spec.slurm.partition = payload;
            if (std::string(field) == "time") spec.slurm.time = payload;
            if (std::string(field) == "job_name") spec.slurm.job_name = payload;
            if (std::string(field) == "options") spec.slurm.options = {"--mem=" + payload};
            CHECK_THROWS_AS(write_slurm_scripts(spec, 4, (dir / "out").string(), "/bin/true"), ConfigError);
        }
    // Ordinary values still pass.
    const SweepSpec ok = parse_sweep(
        "base: tiny.yaml\nslurm: {partition: 'gpu-a100,cpu', time: 1-12:00:00, job_name: my.sweep-2, options: [--mem=4G, "
        "--constraint=a100|h100, --account=lab]}\n",
        (dir / "s.yaml").string());
    CHECK(ok.slurm.time == "1-12:00:00");
    for (const char* flag : {"--time", "--partition", "--job-name", "--sbatch-option"}) {
        std::string out;
        CHECK(shell(std::string(SCA_BINARY) + " sweep " + shell_quoted((dir / "s.yaml").string()) + " --slurm --out " +
                     shell_quoted((dir / "cli").string()) + " " + flag + " " + shell_quoted("x\n#SBATCH --wrap=touch pwned"),
                 &out) == 2);
        CHECK_THAT(out, Catch::Contains(flag));
    }
    CHECK_FALSE(fs::exists(dir / "cli" / "slurm"));
    fs::remove_all(dir);
}

TEST_CASE("hostile paths in --out, the sweep file and sca itself stay data in the Slurm scripts", "[hardening][slurm]") {
    const fs::path dir = test::fresh_dir("slurm paths");
    fs::create_directories(dir);
    // A stand-in for sca that records the arguments it was given.
    const fs::path args_file = dir / "args.txt";
    for (const auto& payload : kPayloads)
        for (const bool in_out : {true, false}) {
            INFO("payload " << payload << (in_out ? " (also in --out)" : ""));
            const fs::path case_dir = dir / "case";
            fs::remove_all(case_dir);
            fs::create_directories(case_dir);
            const bool control = payload.find_first_of("\n\r") != std::string::npos;
            // The sweep file's own folder, sca's path and (first) the output folder carry the payload.
            const fs::path sweep_dir = case_dir / ("sw " + payload);
            fs::create_directories(sweep_dir);
            write_file_atomic((sweep_dir / "tiny.yaml").string(), kTiny);
            const std::string sweep = (sweep_dir / ("s " + payload + ".yaml")).string();  // its stem is the job name
            write_file_atomic(sweep, "base: tiny.yaml\nslurm: {shards: 2}\n");
            const fs::path fake = case_dir / ("sca " + payload);
            write_file_atomic(fake.string(), "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\n");
            fs::permissions(fake, fs::perms::owner_all);
            const SweepSpec spec = load_sweep(sweep);
            const std::string out = (case_dir / (in_out ? "out " + payload : std::string("out dir"))).string();
            SlurmPlan plan;
            try {
                plan = write_slurm_scripts(spec, 4, out, fake.string());
            } catch (const ConfigError& e) {
                // Refusing is allowed only for what a script line cannot hold: a control
                // character anywhere, or a quote, '$' or backslash in the #SBATCH --output path.
                CHECK((control || (in_out && payload.find_first_of("'\"\\`$") != std::string::npos)));
                CHECK_THAT(e.what(), Catch::Contains("control character") || Catch::Contains("#SBATCH line"));
                continue;
            }
            CHECK_FALSE(control);
            for (const std::string& script : {plan.array_script, plan.collect_script}) {
                CHECK(shell("bash -n " + shell_quoted(script)) == 0);
                // Every line is a comment, `set -euo pipefail` or the one exec line.
                std::istringstream lines(read_file(script));
                int execs = 0;
                for (std::string line; std::getline(lines, line);) {
                    CHECK((line.rfind("#", 0) == 0 || line == "set -euo pipefail" || line.rfind("exec ", 0) == 0));
                    execs += line.rfind("exec ", 0) == 0;
                }
                CHECK(execs == 1);
            }
            // Run the array script as task 1: the stand-in gets exactly the paths, nothing runs.
            fs::remove(args_file);
            REQUIRE(shell("cd " + shell_quoted(case_dir.string()) + " && ARGS_FILE=" + shell_quoted(args_file.string()) +
                       " SLURM_ARRAY_TASK_ID=1 bash " + shell_quoted(plan.array_script)) == 0);
            std::vector<std::string> args;
            std::istringstream in(read_file(args_file.string()));
            for (std::string a; std::getline(in, a);) args.push_back(a);
            const std::vector<std::string> expected{"sweep", fs::absolute(sweep).lexically_normal().string(), "--out",
                                                    fs::absolute(out).lexically_normal().string(), "--shard", "1/2", "--jobs", "0"};
            CHECK(args == expected);
            REQUIRE(shell("cd " + shell_quoted(case_dir.string()) + " && ARGS_FILE=" + shell_quoted(args_file.string()) + " bash " +
                       shell_quoted(plan.collect_script)) == 0);
            CHECK(read_file(args_file.string()) == "collect\n" + fs::absolute(out).lexically_normal().string() + "\n");
            CHECK_FALSE(fs::exists(case_dir / "pwned"));
            CHECK_FALSE(fs::exists(fs::current_path() / "pwned"));
        }
    fs::remove_all(dir);
}

TEST_CASE("an intervention's name can never replace a run's own files", "[hardening][names]") {
    const fs::path run = test::fresh_dir("names");
    std::string out;
    REQUIRE(shell(std::string(SCA_BINARY) + " train " + SCA_SOURCE_DIR + "/experiments/anchored.yaml seed=1 " +
                   "schedule.keyframes.4.step=60 schedule.keyframes.2.step=40 --no-eval -q --out " + shell_quoted(run.string()),
               &out) == 0);
    std::map<std::string, std::string> own;
    for (const char* f : {run_files::kModel, run_files::kOptimizer, run_files::kConfig, run_files::kTrainLog,
                          run_files::kValidation})
        own[f] = read_file((run / f).string());
    for (const char* name : {"model", "optimizer", "config", "train_log", "validation", "evaluation", "sweep_done"}) {
        INFO(name);
        REQUIRE(shell(std::string(SCA_BINARY) + " eval " + shell_quoted(run.string()) + " -q --intervention '{name: " + name +
                       ", kind: pruning, dims: [0]}' --intervention '{name: " + name + "-a, kind: ablation, dims: [1]}'",
                   &out) == 0);
        CHECK(fs::exists(run / "pruned" / (std::string(name) + ".safetensors")));
        const auto j = nlohmann::json::parse(read_file((run / kEvaluationFile).string()));
        bool named = false;
        for (const auto& v : j.at("interventions"))
            if (v.at("name") == name) named = v.at("model_file") == "pruned/" + std::string(name) + ".safetensors";
        CHECK(named);
    }
    for (const auto& [f, bytes] : own) CHECK(read_file((run / f).string()) == bytes);
    // The pruned models are still checked as run files (tests/scripts/check_run_files.py walks pruned/).
    CHECK(shell("python3 " + std::string(SCA_SOURCE_DIR) + "/tests/scripts/check_run_files.py " + shell_quoted(run.string()) +
                 " pruned/model.safetensors",
             &out) == 0);
    // Names that cannot be file-name parts are refused before anything is written.
    for (const std::string& bad : std::vector<std::string>{"../x", "a/b", "x.safetensors", std::string(200, 'n'), ".", "a b"}) {
        INFO(bad);
        CHECK(shell(std::string(SCA_BINARY) + " eval " + shell_quoted(run.string()) + " -q --intervention " +
                     shell_quoted(nlohmann::json({{"name", bad}, {"kind", "pruning"}, {"dims", {0}}}).dump()),
                 &out) == 2);
        CHECK_THAT(out, Catch::Contains("not a usable name"));
    }
    fs::remove_all(run);
}

TEST_CASE("temporary files are created exclusively, never through a planted symlink, and stale ones are cleaned",
          "[hardening][tempfiles]") {
    const fs::path dir = test::fresh_dir("temp files");
    fs::create_directories(dir);
    const fs::path victim = dir / "victim.txt";
    write_file_atomic(victim.string(), "precious\n");
    // A symlink at the name earlier versions used (<name>.tmp.<pid>) is not followed.
    const fs::path target = dir / "out.json";
    fs::create_symlink(victim, dir / ("out.json.tmp." + std::to_string(::getpid())));
    write_file_atomic(target.string(), "{}\n");
    CHECK(read_file(victim.string()) == "precious\n");
    CHECK(read_file(target.string()) == "{}\n");
    CHECK_FALSE(fs::is_symlink(target));
    // Temporaries are hidden, carry the marker and are unpredictable: never the same name twice.
    CHECK(is_temporary_name(".out.json.sca-tmp.0123456789abcdef"));
    CHECK(is_temporary_name("model.safetensors.tmp.4242"));
    CHECK_FALSE(is_temporary_name("model.safetensors"));
    CHECK_FALSE(is_temporary_name("runs.tmp.x"));
    // A symlink planted at a temporary's name (any name the marker matches)
    // is removed by the cleanup, not followed; a symlinked folder is not entered.
    fs::create_directories(dir / "evaluation");
    fs::create_directories(dir / "pruned");
    fs::create_symlink(victim, dir / ".model.safetensors.sca-tmp.0000000000000001");
    write_file_atomic((dir / "evaluation" / ".x.npy.sca-tmp.00000000000000aa").string(), "half");
    write_file_atomic((dir / "pruned" / "m.safetensors.tmp.77").string(), "half");
    const fs::path elsewhere = test::fresh_dir("temp files elsewhere");
    fs::create_directories(elsewhere);
    write_file_atomic((elsewhere / ".keep.sca-tmp.1").string(), "not ours to remove through a link");
    fs::create_directory_symlink(elsewhere, dir / "linked");
    remove_stale_temporaries(dir.string());
    for (const auto& e : fs::recursive_directory_iterator(dir)) CHECK_FALSE(is_temporary_name(e.path().filename().string()));
    CHECK(fs::exists(elsewhere / ".keep.sca-tmp.1"));
    fs::remove_all(elsewhere);
    CHECK(read_file(victim.string()) == "precious\n");
    fs::remove_all(dir);
}

TEST_CASE("sca eval and sca train clean stale temporaries of every kind in the run directory", "[hardening][tempfiles]") {
    const fs::path run = test::fresh_dir("stale temps");
    std::string out;
    REQUIRE(shell(std::string(SCA_BINARY) + " train " + SCA_SOURCE_DIR + "/experiments/anchored.yaml seed=1 " +
                   "schedule.keyframes.4.step=60 schedule.keyframes.2.step=40 -q --out " + shell_quoted(run.string()),
               &out) == 0);
    const std::vector<fs::path> stale{run / ".evaluation.json.sca-tmp.1234567890abcdef",
                                      run / "evaluation" / ".rgb_grid.baseline.latents.npy.sca-tmp.0000000000000002",
                                      run / "evaluation.json.tmp.99", run / "pruned" / ".p.safetensors.sca-tmp.3"};
    fs::create_directories(run / "pruned");
    for (const auto& p : stale) write_file_atomic(p.string(), "half");
    REQUIRE(shell(std::string(SCA_BINARY) + " eval " + shell_quoted(run.string()) + " -q", &out) == 0);
    for (const auto& p : stale) CHECK_FALSE(fs::exists(p));
    for (const auto& p : stale) write_file_atomic(p.string(), "half");
    REQUIRE(shell(std::string(SCA_BINARY) + " train --resume " + shell_quoted(run.string()) + " -q --no-eval", &out) == 0);
    for (const auto& p : stale) CHECK_FALSE(fs::exists(p));
    fs::remove_all(run);
}
