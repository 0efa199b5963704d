// sca compare A B: two runs, or two sweeps (directories of runs), side by
// side: tables on stdout and overlaid figures in one self-contained
// compare.html. The runs are found and selected as `sca report` does; the
// script tools/compare.py draws.
#include "host/cli/cli.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace fs = std::filesystem;

void add_compare_command(CLI::App& app, CommandAction& action) {
    auto* cmd = app.add_subcommand("compare", "two runs or two sweeps side by side: tables and overlaid figures");
    struct Args {
        std::string a, b, out, score_by, script, python;
        int depth = 4;
        bool quiet = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("a", args->a, "a run directory, or a directory of runs (a sweep)")->required();
    cmd->add_option("b", args->b, "the same kind of thing to compare it with")->required();
    cmd->add_option("--out,-o", args->out, "where to write compare.html and its figures (default: compare-<A>-vs-<B> beside A)");
    cmd->add_option("--score", args->score_by, "the intervention whose score ranks the runs (default: each evaluation's select_by)");
    cmd->add_option("--depth", args->depth, "how deep below a sweep directory to look for runs")->check(CLI::Range(1, 64));
    cmd->add_option("--script", args->script, "the drawing script (default: tools/compare.py beside the build tree)");
    cmd->add_option("--python", args->python, "the Python with numpy and matplotlib (default: /usr/bin/python3)");
    cmd->add_flag("--quiet,-q", args->quiet, "print only the tables and errors");
    cmd->callback([&action, args] {
        action = [args]() -> int {
            const fs::path a = fs::absolute(args->a).lexically_normal(), b = fs::absolute(args->b).lexically_normal();
            auto name = [](const fs::path& p) { return (p.has_filename() ? p : p.parent_path()).filename().string(); };
            const fs::path out = args->out.empty() ? a.parent_path() / ("compare-" + name(a) + "-vs-" + name(b)) : fs::path(args->out);
            auto kind = [](const fs::path& p) { return fs::is_regular_file(p / "config.yaml") ? "run" : "sweep"; };
            if (std::string(kind(a)) != kind(b))
                throw IoError("'" + args->a + "' is a " + kind(a) + " and '" + args->b + "' a " + kind(b) +
                              ": compare two runs or two sweeps");
            nlohmann::json manifest;
            manifest["out"] = fs::absolute(out).lexically_normal().string();
            manifest["a"] = report_manifest(a, args->depth, args->score_by, out / "grids-a");
            manifest["b"] = report_manifest(b, args->depth, args->score_by, out / "grids-b");
            return draw(manifest, out / "manifest.json", {args->script, "compare.py", args->python, args->quiet});
        };
    });
}

}  // namespace sca
