// The paper's comparison (docs/method.md §10) in one command: trains many seeds of each
// setup in parallel, evaluates them, selects the best run of each setup from
// its Pareto front, and writes a markdown table of min / median / max.
#pragma once
#include <string>
#include <vector>

namespace sca {

struct PaperOptions {
    std::vector<std::string> configs;  // experiment YAMLs, one per setup
    int seeds = 20;                    // seeds 0..seeds-1 of each
    int jobs = 0;                      // threads; 0: every core
    std::string out = "runs/paper";    // run directories: OUT/<setup>/seed-<s>
    std::string results;               // markdown file whose marked section is replaced; empty: stdout only
    bool quiet = false;
};

// The default four setups, relative to the repository root.
std::vector<std::string> paper_configs();

// Returns the markdown section (also written into options.results between
// the markers <!-- paper-results:begin --> and <!-- paper-results:end -->).
std::string run_paper(const PaperOptions& options);

}  // namespace sca
