#include "host/sweep/paper.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/io/thread_pool.hpp"
#include "host/train/blas.hpp"
#include "host/eval/evaluation.hpp"
#include "host/train/run.hpp"
#include "host/eval/selection.hpp"

namespace sca {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBegin = "<!-- paper-results:begin -->";
constexpr const char* kEnd = "<!-- paper-results:end -->";
const char* kColumns[] = {"red", "orange", "cyan"};

struct SeedResult {
    int seed = 0;
    double recon = 0;
    // [variant][column]: baseline, suppression, ablation x red, orange, cyan; then the score.
    double errors[3][3] = {};
    double score[3] = {};
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string stem(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace

std::vector<std::string> paper_configs() {
    return {"experiments/anchored.yaml", "experiments/anchored-subspace.yaml", "experiments/isolated.yaml",
            "experiments/isolated-anti-subspace.yaml"};
}

std::string run_paper(const PaperOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::string> configs = o.configs.empty() ? paper_configs() : o.configs;
    if (o.seeds < 1) throw ConfigError("--seeds", "", "must be at least 1");
    // Load every config first so a bad one fails before any training.
    std::vector<ExperimentConfig> base;
    for (const auto& c : configs) {
        base.push_back(load_experiment(c));
        evaluation_settings(base.back(), base.back().model.latent);
    }
    struct Job {
        size_t setup;
        int seed;
    };
    std::vector<Job> jobs;
    for (size_t c = 0; c < configs.size(); ++c)
        for (int s = 0; s < o.seeds; ++s) jobs.push_back({c, s});
    const int threads = std::max(1, o.jobs > 0 ? o.jobs : int(std::thread::hardware_concurrency()));
    std::atomic<size_t> next{0}, done{0};
    std::mutex error_lock;
    std::string first_error;
    auto dir_of = [&](const Job& j) {
        return (fs::path(o.out) / stem(configs[j.setup]) / fmt::format("seed-{:03d}", j.seed)).string();
    };
    auto worker = [&] {
        for (size_t i = next++; i < jobs.size(); i = next++) {
            try {
                const Job& j = jobs[i];
                const ExperimentConfig cfg = load_experiment(configs[j.setup], {"seed=" + std::to_string(j.seed)});
                TrainOptions t;
                t.out_dir = dir_of(j);
                t.quiet = true;
                t.overwrite = true;
                t.backend = "cpu";
                train_run(cfg, t);
                EvaluationSettings settings = evaluation_settings(cfg, cfg.model.latent);
                settings.grids = false;  // the table needs none; `sca eval DIR` writes them for any run
                const Model model = load_model((fs::path(t.out_dir) / run_files::kModel).string());
                write_evaluation(t.out_dir, evaluate(model, settings), run_files::kModel);
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(error_lock);
                if (first_error.empty()) first_error = dir_of(jobs[i]) + ": " + e.what();
            }
            const size_t d = ++done;
            if (!o.quiet && (d % 10 == 0 || d == jobs.size())) std::fprintf(stderr, "\rpaper: %zu/%zu runs", d, jobs.size());
        }
    };
    {
        const BlasThreadsForJobs one_blas_thread_per_run(std::min(threads, int(jobs.size())));
        run_threads(threads, worker);
    }
    if (!o.quiet) std::fprintf(stderr, "\n");
    if (!first_error.empty()) throw std::runtime_error(first_error);
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Gather each setup's runs.
    struct Setup {
        std::string name;
        std::vector<SeedResult> seeds;
        size_t best = 0;
        std::string select_by;
        size_t front = 0;
    };
    std::vector<Setup> setups;
    for (size_t c = 0; c < configs.size(); ++c) {
        Setup s;
        s.name = stem(configs[c]);
        std::vector<RunScores> scores;
        for (int seed = 0; seed < o.seeds; ++seed) {
            const std::string dir = dir_of({c, seed});
            scores.push_back(read_run_scores(dir));
            const auto e = nlohmann::json::parse(read_file((fs::path(dir) / kEvaluationFile).string()));
            SeedResult r;
            r.seed = seed;
            r.recon = scores.back().minimise.front();
            const nlohmann::json* variant[3] = {&e.at("baseline"), nullptr, nullptr};
            for (const auto& i : e.at("interventions")) {
                const std::string kind = i.at("kind").get<std::string>();
                if (kind == "suppression" && !variant[1]) variant[1] = &i;
                if (kind == "ablation" && !variant[2]) variant[2] = &i;
            }
            if (!variant[1] || !variant[2])
                throw ConfigError(configs[c], "evaluation.interventions", "needs a suppression and an ablation for the paper table");
            for (int v = 0; v < 3; ++v) {
                for (int k = 0; k < 3; ++k) r.errors[v][k] = variant[v]->at("errors").at(kColumns[k]).get<double>();
                r.score[v] = v ? variant[v]->at("score").get<double>() : 0.0;
            }
            s.select_by = e.at("select_by").get<std::string>();
            s.seeds.push_back(r);
        }
        const Selection sel = select_runs(scores);
        s.best = sel.best;
        s.front = sel.front.size();
        setups.push_back(std::move(s));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::string md = fmt::format(
        "Generated by `sca paper --seeds {}` ({} setups x {} seeds = {} runs, {} threads): {:.1f} s wall clock "
        "({:.1f} s training and evaluating).\n\n",
        o.seeds, configs.size(), o.seeds, jobs.size(), threads, seconds, train_seconds);
    const char* titles[3] = {"Baseline (no intervention)", "Suppression (a0 = 0, b = 1, p = 0; bound on red 0.25; score q = 2)",
                             "Ablation (bound on red 1/3; score q = 3)"};
    for (int v = 0; v < 3; ++v) {
        md += fmt::format("### {}\n\n", titles[v]);
        md += v ? "| setup | over seeds | red | orange | cyan | score |\n|---|---|---:|---:|---:|---:|\n"
                : "| setup | over seeds | red | orange | cyan | val recon |\n|---|---|---:|---:|---:|---:|\n";
        for (const auto& s : setups) {
            auto column = [&](int k) {
                std::vector<double> x;
                for (const auto& r : s.seeds) x.push_back(k < 3 ? r.errors[v][k] : (v ? r.score[v] : r.recon));
                return x;
            };
            const char* stat_names[3] = {"min", "median", "max"};
            for (int stat = 0; stat < 3; ++stat) {
                md += fmt::format("| {} | {} |", stat == 0 ? s.name : "", stat_names[stat]);
                for (int k = 0; k < 4; ++k) {
                    const auto x = column(k);
                    const double value = stat == 0 ? *std::min_element(x.begin(), x.end())
                                         : stat == 1 ? median(x)
                                                     : *std::max_element(x.begin(), x.end());
                    md += k == 3 && v == 0 ? fmt::format(" {:.2e} |", value) : fmt::format(" {:.4f} |", value);
                }
                md += "\n";
            }
            const SeedResult& b = s.seeds[s.best];
            md += fmt::format("| | best: seed {} |", b.seed);
            for (int k = 0; k < 3; ++k) md += fmt::format(" {:.4f} |", b.errors[v][k]);
            md += v ? fmt::format(" {:.4f} |\n", b.score[v]) : fmt::format(" {:.2e} |\n", b.recon);
        }
        md += "\n";
    }
    md += "Best seed: the highest score (of the setup's `select_by` intervention) on the Pareto front of docs/method.md §8.\n";
    for (const auto& s : setups)
        md += fmt::format("- {}: selected by `{}`; {} of {} runs on the front; best seed {}.\n", s.name, s.select_by, s.front,
                          s.seeds.size(), s.seeds[s.best].seed);

    if (!o.results.empty()) {
        std::string doc = fs::exists(o.results) ? read_file(o.results) : std::string();
        const std::string block = std::string(kBegin) + "\n" + md + kEnd;
        const auto b = doc.find(kBegin), e = doc.find(kEnd);
        if (b != std::string::npos && e != std::string::npos && e > b)
            doc = doc.substr(0, b) + block + doc.substr(e + std::string(kEnd).size());
        else
            doc += (doc.empty() ? "" : "\n") + block + "\n";
        write_file_atomic(o.results, doc);
    }
    return md;
}

}  // namespace sca
