// Issue 7: numerical faults, failed overwrites, hostile files and limits end
// in a message and never replace good outputs (docs/reliability.md).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "host/io/atomic_file.hpp"
#include "host/config/checkpoint.hpp"
#include "host/io/errors.hpp"
#include "host/train/run.hpp"

using namespace sca;
using sca::test::fresh_dir;
using sca::test::quiet_options;
namespace fs = std::filesystem;

namespace {

// Every file of a run directory, by name, with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read_file(e.path().string());
    return files;
}

// The anchored setup shortened to 61 steps (validation every 6).
std::vector<std::string> short_run(std::vector<std::string> more = {}) {
    std::vector<std::string> o{"schedule.keyframes.4.step=60", "schedule.keyframes.2.step=40", "checkpoint.every=10"};
    o.insert(o.end(), more.begin(), more.end());
    return o;
}

// lr jumps to 1e30 at step 30: the first 30 steps are fine, then it diverges.
const std::string kDiverging = test::lr_jump_experiment("1.0e30", 10);

}  // namespace

TEST_CASE("a non-finite loss stops the run naming the step and term, keeping the last good checkpoint",
          "[hardening][numerical]") {
    const auto cfg = test::config_from(kDiverging, "diverging.yaml");
    const fs::path dir = fresh_dir("diverge"), good = fresh_dir("diverge-good");
    // The same config stopped at step 29 is what the last good checkpoint must hold.
    TrainOptions until = quiet_options(good);
    until.stop_after = 29;
    train_run(cfg, until);

    std::string message;
    int step = -1;
    std::string term;
    try {
        train_run(cfg, quiet_options(dir));
    } catch (const NumericalFault& e) {
        message = e.what();
        step = e.step();
        term = e.term();
    }
    INFO(message);
    REQUIRE(step >= 30);
    CHECK(step <= 32);
    CHECK(message.find("step " + std::to_string(step) + ":") == 0);
    CHECK((term == "recon" || term == "separate" || term == "total" || term == "parameters"));
    CHECK(message.find(term == "recon" ? "reconstruction" : term) != std::string::npos);
    CHECK(message.find("last good checkpoint (step 29)") != std::string::npos);
    // The checkpoint on disk is step 29's, bit for bit, and no temporary files are left.
    CHECK(read_file((dir / run_files::kModel).string()) == read_file((good / run_files::kModel).string()));
    CHECK(read_file((dir / run_files::kOptimizer).string()) == read_file((good / run_files::kOptimizer).string()));
    for (const auto& [name, _] : snapshot(dir)) CHECK_FALSE(is_temporary_name(fs::path(name).filename().string()));
    const TrainState kept = load_train_state((dir / run_files::kOptimizer).string(), cfg.model);
    CHECK(kept.next_step == 30);
    // Resuming meets the same fault again, and still keeps the checkpoint.
    CHECK_THROWS_AS(resume_run(dir.string(), quiet_options(dir)), NumericalFault);
    CHECK(read_file((dir / run_files::kModel).string()) == read_file((good / run_files::kModel).string()));
    fs::remove_all(dir);
    fs::remove_all(good);
}

TEST_CASE("a failed --overwrite leaves the old run as it was, a good one replaces it whole",
          "[hardening][overwrite]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), short_run());
    const fs::path dir = fresh_dir("overwrite");
    train_run(cfg, quiet_options(dir));
    write_file_atomic((dir / "evaluation.json").string(), "{}\n");  // as `sca eval` would leave it
    const auto before = snapshot(dir);

    TrainOptions o = quiet_options(dir);
    o.overwrite = true;
    CHECK_THROWS_WITH(train_run(test::config_from(kDiverging, "diverging.yaml"), o),
                      Catch::Contains("the old run in") && Catch::Contains("is untouched"));
    // The failed run is discarded whole: nothing changed, nothing left beside it.
    CHECK(snapshot(dir) == before);
    auto siblings = [&] {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir.parent_path() / ".sca-staging", ec))
            if (e.path().filename().string().rfind(dir.filename().string() + ".", 0) == 0)
                names.push_back(e.path().filename().string());
        return names;
    };
    CHECK(siblings().empty());
    // What a kill during an overwrite leaves (a staging sibling, the old
    // versions' DIR/.overwrite) and files of the old run that the new one
    // does not write (a report, pruned models) all go.
    fs::create_directories(dir.parent_path() / ".sca-staging" / (dir.filename().string() + ".sca-overwrite.deadbeef"));
    fs::create_directories(dir / run_files::kStaging);
    fs::create_directories(dir / "report");
    write_file_atomic((dir / "report.html").string(), "<html></html>\n");
    write_file_atomic((dir / "report" / "manifest.json").string(), "{}\n");

    const auto other = load_experiment(test::experiment_path("anchored.yaml"), short_run({"seed=9"}));
    const RunSummary s = train_run(other, o);
    CHECK(s.finished);
    CHECK(s.dir == dir.string());
    CHECK_FALSE(fs::exists(dir / run_files::kStaging));
    CHECK(siblings().empty());
    CHECK_FALSE(fs::exists(dir / "evaluation.json"));  // it described the old model
    CHECK_FALSE(fs::exists(dir / "report.html"));
    CHECK_FALSE(fs::exists(dir / "report"));
    CHECK(read_file((dir / run_files::kModel).string()) != before.at(run_files::kModel));
    CHECK(load_experiment((dir / run_files::kConfig).string()).seed == 9);
    CHECK(load_train_state((dir / run_files::kOptimizer).string(), other.model).next_step == 61);
    fs::remove_all(dir);
}

TEST_CASE("an --overwrite through a symlinked run directory replaces the run where it lives", "[hardening][overwrite]") {
    const fs::path real = fresh_dir("overwrite real"), link = fresh_dir("overwrite link");
    train_run(load_experiment(test::experiment_path("anchored.yaml"), short_run()), quiet_options(real));
    fs::create_directory_symlink(real, link);
    TrainOptions o = quiet_options(link);
    o.overwrite = true;
    CHECK(train_run(load_experiment(test::experiment_path("anchored.yaml"), short_run({"seed=9"})), o).finished);
    CHECK(fs::is_symlink(link));
    CHECK(load_experiment((real / run_files::kConfig).string()).seed == 9);
    fs::remove(link);
    fs::remove_all(real);
}

TEST_CASE("a run killed before its first checkpoint resumes from step 0, paths may hold spaces",
          "[hardening][resume]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), short_run());
    const fs::path whole = fresh_dir("whole run"), cut = fresh_dir("cut run");
    const RunSummary full = train_run(cfg, quiet_options(whole));
    fs::create_directories(cut);
    write_file_atomic((cut / run_files::kConfig).string(), to_yaml(cfg.document));
    write_file_atomic((cut / (std::string(run_files::kModel) + ".tmp.12345")).string(), "half a file");
    const RunSummary rest = resume_run(cut.string(), quiet_options(cut));
    CHECK(rest.first_step == 0);
    REQUIRE(rest.finished);
    CHECK(std::memcmp(rest.state.params.data(), full.state.params.data(), full.state.params.size() * 4) == 0);
    CHECK(read_file((cut / run_files::kTrainLog).string()) == read_file((whole / run_files::kTrainLog).string()));
    CHECK_FALSE(fs::exists(cut / (std::string(run_files::kModel) + ".tmp.12345")));  // the stale temporary is gone
    fs::remove_all(whole);
    fs::remove_all(cut);
}

TEST_CASE("a truncated or foreign checkpoint is refused with a message on resume", "[hardening][resume]") {
    const auto cfg = load_experiment(test::experiment_path("anchored.yaml"), short_run());
    const fs::path dir = fresh_dir("truncated");
    TrainOptions o = quiet_options(dir);
    o.stop_after = 19;
    train_run(cfg, o);
    const std::string state = read_file((dir / run_files::kOptimizer).string());
    write_file_atomic((dir / run_files::kOptimizer).string(), state.substr(0, state.size() / 2));
    CHECK_THROWS_WITH(resume_run(dir.string(), quiet_options(dir)),
                      Catch::Contains(run_files::kOptimizer) && Catch::Contains("truncated"));
    write_file_atomic((dir / run_files::kOptimizer).string(), "not a safetensors file at all");
    CHECK_THROWS_WITH(resume_run(dir.string(), quiet_options(dir)), Catch::Contains("not a valid safetensors file"));
    write_file_atomic((dir / run_files::kOptimizer).string(), state);
    write_file_atomic((dir / run_files::kTrainLog).string(), "header\ngarbage\n");
    CHECK_THROWS_WITH(resume_run(dir.string(), quiet_options(dir)), Catch::Contains("train_log.csv:2: not a training log row"));
    fs::remove_all(dir);
}

TEST_CASE("hostile safetensors headers are rejected before anything large is allocated", "[hardening][safetensors]") {
    auto file_with = [](const std::string& json, size_t data_bytes) {
        std::string s(8, '\0');
        const uint64_t n = json.size();
        for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
        return s + json + std::string(data_bytes, '\0');
    };
    auto tensor = [](const std::string& name, const std::string& shape, const std::string& offsets,
                     const std::string& dtype = "F32") {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    };
    // Huge sizes: a shape of 2^32 x 2^32 floats, offsets near 2^64.
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[4294967296,4294967296]", "[0,4]") + "}", 4), "f"),
                      Catch::Contains("too large"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[1]", "[18446744073709551612,18446744073709551615]") + "}", 4), "f"),
                      Catch::Contains("outside the data"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[1]", "[8,4]") + "}", 8), "f"),
                      Catch::Contains("outside the data"));
    // Overlapping offsets, wrong dtype, truncated data, wrong types.
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("a", "[2]", "[0,8]") + "," + tensor("b", "[2]", "[4,12]") + "}", 12), "f"),
                      Catch::Contains("overlap"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[2]", "[0,8]", "F64") + "}", 8), "f"),
                      Catch::Contains("only F32"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[4]", "[0,16]") + "}", 15), "f"),
                      Catch::Contains("truncated"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[1.5]", "[0,4]") + "}", 4), "f"),
                      Catch::Contains("non-integer"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{" + tensor("w", "[1]", "[0,\"4\"]") + "}", 4), "f"),
                      Catch::Contains("bad offsets"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("[1,2]", 0), "f"), Catch::Contains("not a JSON object"));
    CHECK_THROWS_WITH(decode_safetensors(file_with("{\"__metadata__\":{\"a\":1}}", 0), "f"), Catch::Contains("not a string"));
    // A model file whose shapes claim a 2^20-wide layer with no data: refused by
    // the limits before the parameter vector is sized.
    TensorFile wide;
    wide.tensors["encoder.0.weight"] = Tensor{{1 << 20, 0}, {}};
    wide.tensors["encoder.2.weight"] = Tensor{{4, 0}, {}};
    CHECK_THROWS_WITH(shape_from(decode_safetensors(encode_safetensors(wide), "wide"), "wide"),
                      Catch::Contains("widths must be in [1, 4096]"));
}

TEST_CASE("the largest K, H, N, B and grid are checked at config time", "[hardening][limits]") {
    auto load = [](std::vector<std::string> o) { return load_experiment(test::experiment_path("anchored.yaml"), o); };
    CHECK_THROWS_WITH(load({"model.latent=257", "regularizers.anchor.direction=[1]"}),
                      Catch::Contains("model.latent: must be between 1 and 256, got 257"));
    CHECK_THROWS_WITH(load({"model.hidden=4097"}), Catch::Contains("model.hidden: must be between 1 and 4096"));
    CHECK_THROWS_WITH(load({"model.layers=17"}), Catch::Contains("model.layers: must be between 1 and 16"));
    CHECK_THROWS_WITH(load({"data.batch=65537"}), Catch::Contains("data.batch: must be between 1 and 65536"));
    CHECK_THROWS_WITH(load({"data.grid=65"}), Catch::Contains("data.grid: must be between 2 and 64"));
    // Each within its limit, together too large for memory: refused with the estimate.
    CHECK_THROWS_WITH(load({"model.hidden=4096", "model.layers=16", "data.grid=64"}),
                      Catch::Contains("model: needs about") && Catch::Contains("Adam moments") &&
                          Catch::Contains("64 GiB limit") && Catch::Contains("reduce model.hidden"));
    CHECK_NOTHROW(load({"model.hidden=1024", "model.layers=1", "data.batch=65536"}));
    CHECK_NOTHROW(load({"model.hidden=4096", "model.layers=2", "data.batch=1024"}));
    const auto one_hot = [](int K, int k) {
        std::string v = "[";
        for (int i = 0; i < K; ++i) v += std::string(i ? "," : "") + (i == k ? "1" : "0");
        return v + "]";
    };
    const auto K256 = load({"model.latent=256", "regularizers.anchor.direction=" + one_hot(256, 255),
                            "evaluation.interventions.0.direction=" + one_hot(256, 0)});
    CHECK(K256.model.latent == 256);
    CHECK(K256.regularizers[1].params.dir[255] == 1.0f);
}

TEST_CASE("a schedule.csv that is a device, not a file, is refused", "[hardening][config]") {
    CHECK_THROWS_WITH(load_experiment(test::experiment_path("anchored.yaml"), {"schedule={csv: /dev/zero}"}),
                      Catch::Contains("schedule.csv: '/dev/zero' is not a regular file"));
}
