// sca: the Sparse Concept Anchoring trainer.
#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "cli.hpp"
#include "errors.hpp"

int main(int argc, char** argv) {
    CLI::App app{"sca: train autoencoders whose latent space puts chosen concepts where you anchor them"};
    app.require_subcommand(1);
    sca::CommandAction action;
    sca::add_train_command(app, action);
    sca::add_eval_command(app, action);
    sca::add_select_command(app, action);
    sca::add_paper_command(app, action);
    sca::add_report_command(app, action);
    sca::add_sweep_command(app, action);
    sca::add_collect_command(app, action);
    sca::add_compare_command(app, action);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return action();
    } catch (const sca::ConfigError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
