#include "host/config/dataset.hpp"

#include <cmath>

#include "kernels/data_stream.hpp"

namespace sca {

namespace {
float linspace(int i, int n, double lo, double hi) { return float(lo + (hi - lo) * double(i) / double(n - 1)); }
}  // namespace

ColourSet training_grid(int n) {
    ColourSet s;
    for (int r = 0; r < n; ++r)
        for (int g = 0; g < n; ++g)
            for (int b = 0; b < n; ++b)
                s.rgb.insert(s.rgb.end(), {linspace(r, n, 0, 1), linspace(g, n, 0, 1), linspace(b, n, 0, 1)});
    return s;
}

ColourSet validation_set(int n) {
    ColourSet s;
    const int m = n - 1;
    const double lo = 1.0 / (2 * n), hi = 1.0 - 1.0 / (2 * n);
    for (int r = 0; r < m; ++r)
        for (int g = 0; g < m; ++g)
            for (int b = 0; b < m; ++b) {
                if (m == 1) s.rgb.insert(s.rgb.end(), {0.5f, 0.5f, 0.5f});
                else s.rgb.insert(s.rgb.end(), {linspace(r, m, lo, hi), linspace(g, m, lo, hi), linspace(b, m, lo, hi)});
            }
    for (int c = 0; c < 8; ++c) s.rgb.insert(s.rgb.end(), {float((c >> 2) & 1), float((c >> 1) & 1), float(c & 1)});
    return s;
}

ColourSet colours_from(const std::vector<float>& rgb) { return ColourSet{rgb}; }

float label_strength(const LabelSpec& l, const float* c) {
    if (l.source == LabelSource::Similarity) return anchor_similarity(rgb_to_hsv(c[0], c[1], c[2]), rgb_to_hsv(l.colour[0], l.colour[1], l.colour[2]));
    return label_strength(l.function, c[0], c[1], c[2]);
}

std::vector<float> label_probabilities(const std::vector<LabelSpec>& labels, const ColourSet& colours) {
    std::vector<float> p;
    for (const auto& l : labels)
        for (int i = 0; i < colours.size(); ++i) {
            const float* c = &colours.rgb[3 * size_t(i)];
            if (l.source == LabelSource::Function) p.push_back(label_probability(l.function, l.power, l.scale, c[0], c[1], c[2]));
            else p.push_back(l.scale * std::pow(label_strength(l, c), l.power));
        }
    return p;
}

std::vector<float> file_label_probabilities(const std::vector<LabelSpec>& labels) {
    std::vector<float> p;
    for (const auto& l : labels) p.insert(p.end(), l.file->values.begin(), l.file->values.end());
    return p;
}

TrainingData training_data(const ExperimentConfig& cfg) {
    TrainingData d;
    if (cfg.file_data()) {
        d.points = cfg.inputs->values;
        d.dim = cfg.inputs->cols;
        d.probabilities = file_label_probabilities(cfg.labels);
        d.validation = file_validation_batch(cfg);
    } else {
        const ColourSet grid = training_grid(cfg.grid);
        d.points = grid.rgb;
        d.dim = 3;
        d.probabilities = label_probabilities(cfg.labels, grid);
        d.validation = exact_batch(cfg.labels, validation_set(cfg.grid));
    }
    return d;
}

Batch file_validation_batch(const ExperimentConfig& cfg) {
    const DataMatrix& x = *cfg.inputs;
    const int n = validation_row_count(cfg), D = x.cols;
    Batch out;
    out.size = n;
    out.x.resize(size_t(D) * n);
    out.labels.resize(cfg.labels.size() * size_t(n));
    for (int i = 0; i < n; ++i) {
        const size_t row = size_t(i) * size_t(x.rows) / size_t(n);  // evenly strided; every row when N <= the limit
        for (int d = 0; d < D; ++d) out.x[size_t(d) * n + i] = x.values[row * D + d];
        for (size_t l = 0; l < cfg.labels.size(); ++l) out.labels[l * n + i] = cfg.labels[l].file->values[row] >= 0.5f ? 1.0f : 0.0f;
    }
    return out;
}

void draw_batch(unsigned long long seed, int step, int batch, const ColourSet& grid,
                const std::vector<float>& probabilities, int label_count, Batch& out) {
    draw_batch(seed, step, batch, grid.rgb.data(), grid.size(), 3, probabilities, label_count, out);
}

void draw_batch(unsigned long long seed, int step, int batch, const float* points, int n, int dim,
                const std::vector<float>& probabilities, int label_count, Batch& out) {
    out.size = batch;
    out.x.resize(size_t(dim) * batch);
    out.labels.resize(size_t(label_count) * batch);
    out.points.resize(batch);
    for (int i = 0; i < batch; ++i) {
        // The sample's first Philox block serves the point and labels 0..2
        // (the words batch_point and label_uniform read), computed once.
        const Philox4 block = draw(seed, Stream::Data, uint32_t(i), uint32_t(step), 0);
        const uint32_t point = uniform_index(block.v[0], uint32_t(n));
        out.points[i] = int(point);
        for (int c = 0; c < dim; ++c) out.x[size_t(c) * batch + i] = points[size_t(dim) * point + c];
        for (int l = 0; l < label_count; ++l) {
            const float p = probabilities[size_t(l) * n + point];
            const float u = l < 3 ? uniform01(block.v[l + 1]) : label_uniform(seed, uint32_t(step), uint32_t(i), uint32_t(l));
            out.labels[size_t(l) * batch + i] = p > 0.0f && u < p ? 1.0f : 0.0f;
        }
    }
}

Batch exact_batch(const std::vector<LabelSpec>& labels, const ColourSet& colours) {
    Batch out;
    const int n = colours.size();
    out.size = n;
    out.x.resize(3 * size_t(n));
    out.labels.resize(labels.size() * size_t(n));
    for (int i = 0; i < n; ++i) {
        const float* c = &colours.rgb[3 * size_t(i)];
        for (int ch = 0; ch < 3; ++ch) out.x[size_t(ch) * n + i] = c[ch];
        for (size_t l = 0; l < labels.size(); ++l)
            out.labels[l * n + i] = label_strength(labels[l], c) == 1.0f ? 1.0f : 0.0f;
    }
    return out;
}

}  // namespace sca
