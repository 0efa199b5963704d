// Each `sca` subcommand registers itself from its own file.
#pragma once
#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sca {

// A subcommand's action; returns the process exit code.
using CommandAction = std::function<int()>;

void add_train_command(CLI::App& app, CommandAction& action);
void add_eval_command(CLI::App& app, CommandAction& action);
void add_select_command(CLI::App& app, CommandAction& action);
void add_paper_command(CLI::App& app, CommandAction& action);
void add_report_command(CLI::App& app, CommandAction& action);
void add_sweep_command(CLI::App& app, CommandAction& action);
void add_collect_command(CLI::App& app, CommandAction& action);
void add_search_command(CLI::App& app, CommandAction& action);
void add_compare_command(CLI::App& app, CommandAction& action);

// Shared by `sca report` and `sca compare` (cli_report.cpp). What the drawing
// scripts need to know about `target` (a run, or a directory of runs: their
// schedules, groups, Pareto fronts and best runs), with the NPY grids the
// figures need evaluated into `grid_root` where a run has none.
nlohmann::json report_manifest(const std::filesystem::path& target, int depth, const std::string& score_by,
                               const std::filesystem::path& grid_root);
// Writes the manifest to `manifest_path` and runs the drawing script on it
// (tools/<name> unless `given`, with `python` or /usr/bin/python3); 0 or 1.
struct DrawingScript {
    std::string given, name, python;
    bool quiet = false;
};
int draw(const nlohmann::json& manifest, const std::filesystem::path& manifest_path, const DrawingScript& script);

}  // namespace sca
