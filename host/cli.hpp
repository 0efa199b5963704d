// Each `sca` subcommand registers itself from its own file.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

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

}  // namespace sca
