// Evaluation of a trained model and its interventions (docs/method.md §8): errors of the
// 17 named colours with clamped output, the HSV similarity to the anchor
// colour, each intervention's score (r^2 of error against similarity^q over
// the n^3 training grid), the geometric bounds, and the latents and
// reconstructions of a regular RGB grid and an HSV grid.
#pragma once
#include <yaml-cpp/yaml.h>

#include <array>
#include <limits>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/config/config.hpp"
#include "host/eval/interventions.hpp"

namespace sca {

enum class InterventionKind { Suppression, Ablation, Pruning };

struct InterventionSpec {
    std::string name;  // also a file-name part: letters, digits, '-' and '_'
    InterventionKind kind = InterventionKind::Suppression;
    Suppression suppression;  // Suppression only
    std::vector<int> dims;    // Ablation and Pruning
    double q = 2;             // score exponent: 2 for suppression, 3 for ablation and pruning
    // RGB runs: the colour this intervention's score and anchor error are of
    // (unset: the evaluation's anchor_colour), so a second concept can be scored.
    std::optional<std::array<float, 3>> anchor_rgb;
    // File-data runs: the concept whose damage ratio is this intervention's
    // score (index into EvaluationSettings::concepts; default the first).
    int concept_index = 0;
};

// A held-out concept (file-data runs): 0/1 per evaluation sample.
struct ConceptLabels {
    std::string name;
    std::vector<float> on;  // [N]
};

std::string to_string(InterventionKind kind);
// The geometric bound on the anchor colour's error: 1/4 suppression, 1/3 ablation and pruning.
double geometric_bound(InterventionKind kind);

struct EvaluationSettings {
    std::array<float, 3> anchor_rgb{1, 0, 0};  // the anchored concept's colour (red)
    int grid = 8;                              // the training grid n (the score's colours)
    int rgb_grid = 16;                         // NPY grid: rgb_grid^3 colours
    std::array<int, 3> hsv_grid{24, 8, 8};     // NPY grid: hues x saturations x values
    bool grids = true;                         // write the NPY grids
    std::string select_by;                     // the intervention whose score selection maximises
    std::vector<InterventionSpec> interventions;
    // File-data runs (docs/data.md): held-out inputs [N][D] and concepts;
    // these replace the colour evaluation.
    std::shared_ptr<const DataMatrix> inputs;
    std::vector<ConceptLabels> concepts;
    bool file_data() const { return inputs != nullptr; }
};

// The paper's evaluation: suppress e0 (a0 = 0, b = 1, p = 0) as "suppressed",
// ablate dim 0 as "ablated"; selection by "suppressed".
EvaluationSettings default_evaluation(int latent, int grid);
// The config's `evaluation:` section, validated strictly against a model of
// latent width `latent` (the config's own unless a pruned checkpoint says
// otherwise). Errors are ConfigErrors naming file:line and key.
EvaluationSettings evaluation_settings(const ExperimentConfig& cfg, int latent);
// One intervention from YAML text (a command-line --intervention), checked like the config's.
InterventionSpec parse_intervention(const std::string& yaml_text, int latent, const std::string& source,
                                    const std::vector<ConceptLabels>& concepts = {});
// Adds (or replaces, by name) an intervention and re-checks select_by.
void add_intervention(EvaluationSettings& settings, InterventionSpec spec);

struct NamedColour {
    std::string name;
    std::array<float, 3> rgb;
};
// The 17 colours of docs/method.md §8: 12 hues at 30 degree steps with S = V = 1, then 5 grays.
const std::vector<NamedColour>& named_colours();

std::array<float, 3> hsv_to_rgb(float h, float s, float v);  // h in [0, 1)
// docs/method.md §8's similarity of an RGB colour to the anchor colour.
float similarity_to_anchor(const std::array<float, 3>& rgb, const std::array<float, 3>& anchor_rgb);
// Mean over channels of (output - input)^2 (output already clamped).
float colour_error(const float* output, const float* input, int channels);
// r^2 of the Pearson correlation between errors and sims^q; 0 where either is constant.
double selectivity_score(const std::vector<float>& errors, const std::vector<float>& sims, double q);

// Mean reconstruction MSE over the evaluation samples with a concept's label
// (error_on) and over samples with no label at all (error_off).
struct ConceptError {
    double error_on = 0, error_off = 0;
    int samples_on = 0, samples_off = 0;
    double ratio() const { return error_off > 0 ? error_on / error_off : std::numeric_limits<double>::infinity(); }
};

struct VariantResult {
    std::string name = "baseline";
    bool baseline = true;
    InterventionSpec spec;            // meaningless for the baseline
    std::vector<float> errors;        // per named colour
    std::vector<float> latents;       // per named colour, [17][K]
    int latent = 0;                   // K of this variant's latent
    float anchor_error = 0;           // error of the anchor colour
    double score = 0;                 // interventions only
    double mean_grid_error = 0;       // over the training grid
    Inference rgb_grid, hsv_grid;     // filled when settings.grids
    Model pruned;                     // Pruning only: the smaller model
    std::vector<ConceptError> concepts;  // file-data runs: per settings.concepts
    double mean_error = 0;               // file-data runs: over every evaluation sample
    Inference held_out;                  // file-data runs: latents and outputs of the evaluation inputs
};

struct EvaluationResult {
    EvaluationSettings settings;
    ModelShape shape;
    std::vector<VariantResult> variants;  // [0] is the baseline, then settings.interventions in order
    std::optional<bool> diverged;         // a run directory's training diverged (validation.json); unset: not known
    const VariantResult& baseline() const { return variants.front(); }
};

EvaluationResult evaluate(const Model& model, const EvaluationSettings& settings);

nlohmann::ordered_json evaluation_json(const EvaluationResult& result, const std::string& model_source);
// The readable table: colour x variant, then scores, anchor errors and bounds;
// for file-data runs, concept x variant (error_on, error_off, ratio).
std::string evaluation_table(const EvaluationResult& result);

// Writes DIR/evaluation.json and, when settings.grids, DIR/evaluation/*.npy;
// a pruning intervention also writes DIR/pruned/<name>.safetensors. All atomic.
// User-chosen names only ever name files inside evaluation/ and pruned/, so no
// intervention can replace a run's own files (model.safetensors, config.yaml, logs).
void write_evaluation(const std::string& dir, const EvaluationResult& result, const std::string& model_source);

// Whether the run in `run_dir` diverged (validation.json's divergence), if it says.
std::optional<bool> run_diverged(const std::string& run_dir);

// Evaluates a run directory's model.safetensors with the config's settings
// and writes the outputs into the directory (what `sca train` does at the end).
EvaluationResult evaluate_run(const std::string& run_dir, const ExperimentConfig& cfg);

inline constexpr const char* kEvaluationFile = "evaluation.json";
inline constexpr const char* kEvaluationGridDir = "evaluation";
inline constexpr const char* kPrunedModelDir = "pruned";
inline constexpr size_t kMaxInterventionName = 128;  // a file-name part
// DIR-relative path of a pruning intervention's model.
std::string pruned_model_file(const std::string& intervention);

}  // namespace sca
