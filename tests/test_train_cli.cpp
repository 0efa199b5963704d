// sca train from the command line: the default run directory and its refusal
// to replace an existing run.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>

namespace fs = std::filesystem;

TEST_CASE("sca train without --out writes runs/<config name> and never replaces it", "[cli][training]") {
    const fs::path work = fs::temp_directory_path() / ("sca_test_train_default_out-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    const std::string cmd = "cd '" + work.string() + "' && " + SCA_BINARY + " train " + SCA_SOURCE_DIR +
                            "/experiments/anchored.yaml schedule.keyframes.4.step=800 --no-eval --quiet";
    auto status = [](int s) { return WIFEXITED(s) ? WEXITSTATUS(s) : -1; };
    REQUIRE(status(std::system(cmd.c_str())) == 0);
    CHECK(fs::exists(work / "runs/anchored/model.safetensors"));
    const auto written = fs::last_write_time(work / "runs/anchored/model.safetensors");
    CHECK(status(std::system((cmd + " 2>/dev/null").c_str())) != 0);
    CHECK(fs::last_write_time(work / "runs/anchored/model.safetensors") == written);
    fs::remove_all(work);
}
