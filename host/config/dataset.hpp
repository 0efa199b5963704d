// The RGB data of docs/method.md §3: the training grid, the validation set, and batches
// drawn from the counter-based stream with per-draw stochastic labels.
#pragma once
#include <vector>

#include "host/config/config.hpp"

namespace sca {

// Colours, sample-major [n][3].
struct ColourSet {
    std::vector<float> rgb;
    int size() const { return int(rgb.size() / 3); }
};

ColourSet training_grid(int n);    // n^3 cell corners, index ((r n) + g) n + b
ColourSet validation_set(int n);   // (n-1)^3 cell centres, then the 8 cube corners
ColourSet colours_from(const std::vector<float>& rgb);

// Inputs feature-major [3][B]; labels [L][B] as 0/1.
struct Batch {
    int size = 0;
    std::vector<float> x, labels;
    std::vector<int> points;  // grid index of each sample (training batches)
};

// Label probabilities p = scale * strength^power for each label and colour, [L][n].
std::vector<float> label_probabilities(const std::vector<LabelSpec>& labels, const ColourSet& colours);

// Step `step`'s batch: B points drawn with replacement, labels re-drawn.
// points: sample-major [n][dim] (the RGB grid, or data.inputs' rows).
void draw_batch(unsigned long long seed, int step, int batch, const float* points, int n, int dim,
                const std::vector<float>& probabilities, int label_count, Batch& out);
void draw_batch(unsigned long long seed, int step, int batch, const ColourSet& grid,
                const std::vector<float>& probabilities, int label_count, Batch& out);

// A label's strength for an RGB colour c[3]: its colour function, or the HSV
// similarity to its colour (docs/method.md §8's measure).
float label_strength(const LabelSpec& label, const float* c);
// data.inputs' label files, [L][N].
std::vector<float> file_label_probabilities(const std::vector<LabelSpec>& labels);
// The validation set of a file-data run: up to Limits::kMaxValidationRows rows
// of data.inputs, evenly strided; a label is 1 where its probability is >= 0.5.
Batch file_validation_batch(const ExperimentConfig& cfg);

// What a backend trains on: points [n][dim], label probabilities [L][n], the validation batch.
struct TrainingData {
    std::vector<float> points;
    int dim = 3;
    std::vector<float> probabilities;
    Batch validation;
    int size() const { return int(points.size() / size_t(dim)); }
};
TrainingData training_data(const ExperimentConfig& cfg);

// Every colour once, labelled exactly: y = 1 only where the strength is 1.
Batch exact_batch(const std::vector<LabelSpec>& labels, const ColourSet& colours);

}  // namespace sca
