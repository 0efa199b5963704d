// sca: the Sparse Concept Anchoring trainer.
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "host/cli/cli.hpp"
#include "host/io/errors.hpp"
#include "host/train/blas.hpp"

int main(int argc, char** argv) {
    sca::stop_idle_blas_threads();
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
    sca::add_search_command(app, action);
    sca::add_compare_command(app, action);
    // A command-line mistake is one line and exit status 2, like a bad config.
    if (argc > 1 && argv[1][0] != '-') {
        std::string known;
        bool found = false;
        for (const auto* sub : app.get_subcommands({})) {
            known += (known.empty() ? "" : ", ") + sub->get_name();
            found = found || sub->get_name() == argv[1];
        }
        if (!found) {
            std::fprintf(stderr, "error: unknown command '%s' (expected one of: %s; see sca --help)\n", argv[1], known.c_str());
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "error: %s (see sca %s--help)\n", e.what(),
                     argc > 1 && argv[1][0] != '-' ? (std::string(argv[1]) + " ").c_str() : "");
        return 2;
    }
    try {
        return action();
    } catch (const CLI::Error& e) {  // a command-line mistake found after parsing: exit 2 like the parser's
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::filesystem::filesystem_error& e) {  // the library's text names its own function: rephrase
        std::fprintf(stderr, "error: %s\n", sca::describe_filesystem_error(e).c_str());
        return 1;
    } catch (const sca::ConfigError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
