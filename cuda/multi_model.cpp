// Glue between ExperimentConfig (C++20, yaml) and the fused device trainer.
#include "cuda/multi_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "host/config/dataset.hpp"
#include "host/io/errors.hpp"
#include "host/train/group_compat.hpp"
#include "host/train/objective.hpp"

namespace sca::cuda {

FusedModel fused_model_for(const ExperimentConfig& cfg) {
    const auto fail = [&](const std::string& key, const std::string& what) {
        throw ConfigError(cfg.source, key, what + " (the fused CUDA trainer's limit; such configs take the cuBLAS path)");
    };
    FusedModel m;
    const auto layers = linear_layers(cfg.model);
    if (int(layers.size()) > kFusedMaxLinear)
        fail("model.layers", "at most " + std::to_string(kFusedMaxLinear / 2 - 1) + " nonlinear layers per side");
    if (int(cfg.regularizers.size()) > kFusedMaxRegs)
        fail("regularizers", "at most " + std::to_string(kFusedMaxRegs) + " regularizers");
    if (int(cfg.labels.size()) > kFusedMaxLabels) fail("labels", "at most " + std::to_string(kFusedMaxLabels) + " labels");
    if (cfg.batch > 4096) fail("data.batch", "at most 4096 samples per batch");
    if (cfg.model.latent > kFusedMaxLatent) fail("model.latent", "at most " + std::to_string(kFusedMaxLatent));
    m.input_dim = cfg.model.input_dim;
    m.latent = cfg.model.latent;
    m.batch = cfg.batch;
    m.n_linear = int(layers.size());
    m.n_encoder = encoder_layer_count(cfg.model);
    m.n_params = int(parameter_count(cfg.model));
    m.n_points = cfg.grid * cfg.grid * cfg.grid;
    m.n_labels = int(cfg.labels.size());
    m.n_regs = int(cfg.regularizers.size());
    for (int l = 0; l < m.n_linear; ++l) {
        FusedLinear& L = m.linear[l];
        L.in = layers[l].in;
        L.out = layers[l].out;
        L.weight = int(layers[l].weight);
        L.bias = int(layers[l].bias);
        L.gelu_after = layers[l].gelu_after ? 1 : 0;
    }
    for (int r = 0; r < m.n_regs; ++r) {
        const RegularizerSpec& spec = cfg.regularizers[r];
        FusedRegularizer& R = m.regs[r];
        R.params = narrow_params<kFusedMaxLatent>(spec.params);
        R.n_affinities = int(spec.affinities.size());
        if (R.n_affinities > kFusedMaxLabels) fail("regularizers." + spec.name + ".labels", "too many label affinities");
        for (int q = 0; q < R.n_affinities; ++q) {
            R.label[q] = spec.affinities[q].first;
            R.factor[q] = spec.affinities[q].second;
        }
    }
    layout_fused_model(m);
    return m;
}

std::vector<float> schedule_table(const ExperimentConfig& cfg) {
    const int T = cfg.last_step(), R = int(cfg.regularizers.size()), stride = 3 + R;
    std::vector<float> table(size_t(T + 1) * stride);
    // The same expressions as host/train/adam.hpp (beta1, beta2 are floats there, promoted to double).
    const float beta1 = 0.9f, beta2 = 0.999f;
    for (int t = 0; t <= T; ++t) {
        float* row = &table[size_t(t) * stride];
        const float lr = cfg.lr_at(t);
        const double bc1 = 1.0 - std::pow(double(beta1), double(long(t) + 1));
        const double bc2 = 1.0 - std::pow(double(beta2), double(long(t) + 1));
        row[0] = lr;
        row[1] = float(lr / bc1);
        row[2] = float(std::sqrt(bc2));
        const auto w = cfg.weights_at(t);
        for (int r = 0; r < R; ++r) row[3 + r] = w[r];
    }
    return table;
}

std::string incompatibility(const ExperimentConfig& a, const ExperimentConfig& b) { return group_incompatibility(a, b); }

WideShape wide_shape_for(const ExperimentConfig& cfg) {
    WideShape s;
    s.input_dim = cfg.model.input_dim;
    s.latent = cfg.model.latent;
    s.batch = cfg.batch;
    s.n_encoder = encoder_layer_count(cfg.model);
    s.n_labels = int(cfg.labels.size());
    s.n_params = parameter_count(cfg.model);
    for (const LinearLayer& L : linear_layers(cfg.model)) s.layers.push_back({L.in, L.out, L.weight, L.bias, L.gelu_after});
    for (const RegularizerSpec& spec : cfg.regularizers) {
        WideRegularizer R;
        R.params = spec.params;
        if (spec.affinities.size() > size_t(kFusedMaxLabels))
            throw ConfigError(cfg.source, "regularizers." + spec.name + ".labels",
                              "at most " + std::to_string(kFusedMaxLabels) + " label affinities (the CUDA backend's limit)");
        R.n_affinities = int(spec.affinities.size());
        for (int q = 0; q < R.n_affinities; ++q) {
            R.label[q] = spec.affinities[q].first;
            R.factor[q] = spec.affinities[q].second;
        }
        s.regs.push_back(R);
    }
    return s;
}

std::string fused_refusal(const ExperimentConfig& cfg) {
    if (cfg.file_data()) return "data from files (data.inputs)";
    if (cfg.model.input_dim != 3) return "model.input_dim is not 3";
    try {
        return fused_shared_memory_refusal(fused_model_for(cfg));
    } catch (const ConfigError& e) {
        return e.what();
    }
}

namespace {

int data_points(const ExperimentConfig& cfg) {
    return cfg.file_data() ? cfg.inputs->rows : cfg.grid * cfg.grid * cfg.grid;
}

}  // namespace

DeviceFootprint group_footprint(const ExperimentConfig& cfg) {
    const int rows = cfg.last_step() + 1;
    if (fused_refusal(cfg).empty()) return device_footprint(fused_model_for(cfg), rows, rows);
    return wide_footprint(wide_shape_for(cfg), data_points(cfg), rows, rows);
}

MultiModelTrainer::MultiModelTrainer(std::vector<ExperimentConfig> configs, TrainPath path)
    : configs_(std::move(configs)) {
    if (configs_.empty()) throw std::invalid_argument("MultiModelTrainer needs at least one config");
    const ExperimentConfig& first = configs_.front();
    for (size_t m = 1; m < configs_.size(); ++m) {
        const std::string why = incompatibility(first, configs_[m]);
        if (!why.empty())
            throw std::invalid_argument("config " + std::to_string(m) + " (" + configs_[m].source +
                                        ") cannot train in one launch with config 0: " + why);
    }
    const bool fused = path == TrainPath::Fused || (path == TrainPath::Auto && fused_refusal(first).empty());
    const TrainingData data = training_data(first);
    std::vector<uint64_t> seeds;
    std::vector<float> all_tables;
    for (const auto& cfg : configs_) {
        seeds.push_back(cfg.seed);
        std::vector<float> t = schedule_table(cfg);
        int found = -1;
        for (size_t i = 0; i < tables_.size() && found < 0; ++i)
            if (tables_[i] == t) found = int(i);
        if (found < 0) {
            found = int(tables_.size());
            all_tables.insert(all_tables.end(), t.begin(), t.end());
            tables_.push_back(std::move(t));
        }
        table_of_.push_back(found);
    }
    if (fused)
        device_ = std::make_unique<DeviceTrainer>(fused_model_for(first), size(), data.points, data.probabilities, seeds,
                                                  all_tables, first.last_step() + 1, table_of_);
    else
        device_ = std::make_unique<WideTrainer>(wide_shape_for(first), size(), data.points, data.probabilities, seeds,
                                                all_tables, first.last_step() + 1, table_of_);
    validation_ = data.validation;
    next_step_.assign(configs_.size(), 0);
    for (int m = 0; m < size(); ++m) load_state(m, initial_state(configs_[m]));
}

MultiModelTrainer::~MultiModelTrainer() = default;

void MultiModelTrainer::load_state(int m, const TrainState& s) {
    const size_t P = size_t(device_->n_params());
    if (s.params.size() != P || s.exp_avg.size() != P || s.exp_avg_sq.size() != P)
        throw std::invalid_argument("load_state: the state does not match the model's " + std::to_string(P) +
                                    " parameters");
    device_->set_state(m, s.params.data(), s.exp_avg.data(), s.exp_avg_sq.data());
    next_step_[m] = s.next_step;
}

TrainState MultiModelTrainer::state(int m) const {
    const size_t P = size_t(device_->n_params());
    TrainState s;
    s.params.resize(P);
    s.exp_avg.resize(P);
    s.exp_avg_sq.resize(P);
    device_->get_state(m, s.params.data(), s.exp_avg.data(), s.exp_avg_sq.data());
    s.next_step = next_step_[m];
    return s;
}

std::vector<float> MultiModelTrainer::params(int m) const {
    std::vector<float> p(size_t(device_->n_params()));
    device_->get_state(m, p.data(), nullptr, nullptr);
    return p;
}

void MultiModelTrainer::train(int first, int last, std::vector<std::vector<StepRecord>>* logs) {
    if (first > last) return;
    const int R = int(configs_.front().regularizers.size()), stride = R + 2, steps = last - first + 1;
    std::vector<float> raw;
    if (logs) raw.resize(size_t(size()) * steps * stride);
    std::vector<bool> was_stopped(static_cast<size_t>(size()));
    for (int m = 0; m < size(); ++m) was_stopped[m] = device_->stopped_at(m) >= 0;
    device_->train(first, last, logs ? raw.data() : nullptr);
    if (logs) logs->resize(size());
    for (int m = 0; m < size(); ++m) {
        if (was_stopped[m]) continue;  // stopped in an earlier call: nothing trained
        const int stop = device_->stopped_at(m);
        next_step_[m] = stop >= 0 ? stop : last + 1;  // the bad step's update was not applied
        if (!logs) continue;
        const std::vector<float>& table = tables_[table_of_[m]];
        auto& out = (*logs)[m];
        for (int t = first; t <= (stop >= 0 ? stop : last); ++t) {
            const float* row = &raw[(size_t(m) * steps + (t - first)) * stride];
            const float* sched = &table[size_t(t) * (3 + R)];
            StepRecord rec;
            rec.step = t;
            rec.lr = sched[0];
            rec.weights.assign(sched + 3, sched + 3 + R);
            rec.recon = row[0];
            rec.reg.assign(row + 1, row + 1 + R);
            rec.total = row[1 + R];
            if (t == stop && device_->stopped_on_gradient(m)) rec.bad_gradient = gradient_culprit(m, t, rec.weights);
            out.push_back(std::move(rec));
        }
    }
}

// As the CPU backend names it: the reconstruction alone first, then each
// weighted regularizer alone, on step t's batch and the last good parameters.
std::string MultiModelTrainer::gradient_culprit(int m, int t, const std::vector<float>& weights) const {
    std::vector<float> only(weights.size(), 0.0f);
    auto bad = [&] {
        for (float g : device_->evaluate(m, t, nullptr, nullptr, only, false).grad)
            if (!std::isfinite(g)) return true;
        return false;
    };
    if (bad()) return "recon";
    for (size_t r = 0; r < weights.size(); ++r) {
        if (weights[r] == 0.0f) continue;
        std::fill(only.begin(), only.end(), 0.0f);
        only[r] = weights[r];
        if (bad()) return configs_[m].regularizers[r].name;
    }
    return "total";
}

ValidationRecord MultiModelTrainer::validate(int m, int step) const {
    const ExperimentConfig& cfg = configs_[m];
    const Batch& val = validation_;  // the same for every model of the group (same data and labels)
    CpuNet<float> net(cfg.model, val.size);
    Objective<float> objective(cfg.model, cfg.regularizers, val.size);
    const std::vector<float> p = params(m);
    const std::vector<float> ones(cfg.regularizers.size(), 1.0f);
    const auto terms = objective.evaluate(net, p.data(), val.x.data(), val.labels.data(), val.size, ones, nullptr, true);
    ValidationRecord v;
    v.step = step;
    v.recon = terms.recon;
    v.reg.assign(terms.reg.begin(), terms.reg.end());
    return v;
}

DeviceEvaluation MultiModelTrainer::evaluate(int m, int step, const float* x, const float* labels,
                                             const std::vector<float>& weights, bool all_terms) const {
    return device_->evaluate(m, step, x, labels, weights, all_terms);
}

}  // namespace sca::cuda
