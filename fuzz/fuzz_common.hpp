// The targets run from the project root (tools/fuzz.sh does) and name its
// files by relative paths: no message, and so nothing the mutator learns
// from, depends on where the checkout lives, and the gate explores the same
// inputs in every clone.
//
// What every fuzz target accepts: the reader returns, or throws ConfigError
// (bad input, reported with a message). Any other exception is a bug: the
// user would see a message without a file, line or key, so abort and let
// libFuzzer save the input.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "host/io/errors.hpp"

namespace sca::fuzz {

template <class F>
void expect_config_errors_only(F&& body) {
    try {
        body();
    } catch (const ConfigError& e) {
        if (std::string(e.what()).empty()) {
            std::fprintf(stderr, "ConfigError with an empty message\n");
            std::abort();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception (not a ConfigError): %s\n", e.what());
        std::abort();
    }
}

}  // namespace sca::fuzz
