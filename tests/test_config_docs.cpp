// docs/config.md lists exactly the keys the experiment loader accepts. The
// loader's own lookups (MapReader, recorded through key_recorder()) while it
// loads the page's examples are the keys it accepts; the page's tables are the
// keys documented. A key added to the loader and not to the page fails here,
// and so does a documented key the examples never reach (add an example).
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "host/eval/evaluation.hpp"
#include "helpers.hpp"

using namespace sca;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    REQUIRE(f);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> yaml_blocks(const std::string& markdown) {
    std::vector<std::string> blocks;
    std::istringstream in(markdown);
    std::string line, block;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside && line == "```yaml") {
            inside = true;
            block.clear();
        } else if (inside && line == "```") {
            inside = false;
            blocks.push_back(block);
        } else if (inside) {
            block += line + "\n";
        }
    }
    return blocks;
}

// Table rows whose first cell is a `key`.
std::set<std::string> documented_keys(const std::string& markdown) {
    std::set<std::string> keys;
    const std::regex row(R"(^\| `([^`]+)` \|)");
    std::istringstream in(markdown);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) keys.insert(m[1]);
    }
    return keys;
}

// "regularizers.1.labels.red" -> "regularizers[].labels.<label>": list
// indices become [], the config's own names become placeholders.
std::string generic_path(const std::string& path, const ExperimentConfig& cfg) {
    std::vector<std::string> parts;
    std::istringstream in(path);
    for (std::string p; std::getline(in, p, '.');) parts.push_back(p);
    std::string out;
    std::string parent;  // the previous segment, as written out
    for (const auto& p : parts) {
        const bool index = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
        if (index) {
            out += "[]";
            parent += "[]";
            continue;
        }
        std::string seg = p;
        bool label = false;
        for (const auto& l : cfg.labels) label = label || l.name == p;
        if (label && (parent == "labels")) seg = "<label>";
        if (parent == "keyframes[]" && p != "step") seg = "<property>";
        if (parent == "properties") seg = "<property>";
        out += (out.empty() ? "" : ".") + seg;
        parent = seg;
    }
    return out;
}

std::string joined(const std::set<std::string>& s) {
    std::string out;
    for (const auto& k : s) out += "  " + k + "\n";
    return out;
}

}  // namespace

TEST_CASE("docs/config.md documents every key the loader accepts, and no other", "[config][docs]") {
    const std::string page = read_text(std::string(SCA_SOURCE_DIR) + "/docs/config.md");
    const auto blocks = yaml_blocks(page);
    REQUIRE(blocks.size() >= 2);
    std::set<std::string> read;
    for (size_t i = 0; i < blocks.size(); ++i) {
        std::set<std::string> raw;
        key_recorder() = &raw;
        try {
            // In experiments/, so a relative schedule.csv resolves as the page says.
            const ExperimentConfig cfg = parse_experiment(blocks[i], test::experiment_path("config-md-example.yaml"));
            evaluation_settings(cfg, cfg.model.latent);
            key_recorder() = nullptr;
            for (const auto& k : raw) read.insert(generic_path(k, cfg));
        } catch (...) {
            key_recorder() = nullptr;
            FAIL("docs/config.md example " << i + 1 << " does not load");
        }
    }
    const std::set<std::string> documented = documented_keys(page);
    std::set<std::string> undocumented, unread;
    for (const auto& k : read)
        if (!documented.count(k)) undocumented.insert(k);
    for (const auto& k : documented)
        if (!read.count(k)) unread.insert(k);
    INFO("keys the loader reads that docs/config.md does not list:\n" << joined(undocumented));
    INFO("keys docs/config.md lists that its examples never reach:\n" << joined(unread));
    CHECK(undocumented.empty());
    CHECK(unread.empty());
    CHECK(read.count("model.latent"));  // the recorder saw the loader at all
}

TEST_CASE("The key recorder sees keys the loader reads, and only while installed", "[config][docs]") {
    std::set<std::string> raw;
    key_recorder() = &raw;
    const auto cfg = test::config_from("model: {latent: 4}\nschedule: {keyframes: [{step: 0, lr: 0.1}, {step: 10}]}\n");
    key_recorder() = nullptr;
    CHECK(raw.count("model.hidden"));  // looked up though absent: defaults count as accepted keys
    CHECK(raw.count("schedule.keyframes.0.lr"));
    CHECK(generic_path("schedule.keyframes.0.lr", cfg) == "schedule.keyframes[].<property>");
    CHECK(generic_path("regularizers.3.dims", cfg) == "regularizers[].dims");
    const size_t before = raw.size();
    test::config_from("model: {latent: 4}\nschedule: {keyframes: [{step: 0, lr: 0.1}]}\n");
    CHECK(raw.size() == before);
}
