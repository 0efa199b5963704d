#include "host/train/lane_trainer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "host/config/dataset.hpp"
#include "host/config/memory_check.hpp"
#include "host/train/adam.hpp"
#include "host/train/flush_denormals.hpp"
#include "host/train/gemm_layers.hpp"
#include "host/train/group_compat.hpp"
#include "host/train/objective.hpp"
#include "host/train/simd_lanes.hpp"

namespace sca {

namespace {

// Lane m of every element of a lane array, as one model's float vector.
std::vector<float> lane_of(const std::vector<F8>& v, int m) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i][m];
    return out;
}

// Per lane: were all values finite (inf - inf and NaN both end NaN)?
F8 finite_sum(const std::vector<F8>& v) {
    F8 acc = 0.0f;
    for (const F8& x : v) acc += x - x;
    return acc;
}

// Up to eight models in lanes. Unused lanes train copies of model 0 (their
// results are never read): every lane always holds finite, typical values.
class LaneModels {
public:
    explicit LaneModels(const std::vector<ExperimentConfig>& configs)
        : configs_(configs),
          M_(int(configs.size())),
          net_(configs.front().model, max_rows(configs.front())),
          objective_(configs.front().model, configs.front().regularizers, max_rows(configs.front())) {
        for (const auto& cfg : configs_) data_.push_back(training_data(cfg));
        const ExperimentConfig& head = configs_.front();
        const size_t P = parameter_count(head.model);
        params_.resize(P), m_.resize(P), v_.resize(P), grad_.resize(P);
        for (int l = 0; l < F8::kLanes; ++l) {
            const TrainState s = initial_state(configs_[source(l)]);
            for (size_t i = 0; i < P; ++i) params_[i][l] = s.params[i];
        }
        batches_.resize(M_);
        stopped_.assign(M_, false);
        const Batch& val = data_.front().validation;
        val_x_.assign(val.x.begin(), val.x.end());
        val_labels_.assign(val.labels.begin(), val.labels.end());
        x_.resize(size_t(head.batch) * data_.front().dim);
        labels_.resize(size_t(head.batch) * head.labels.size());
    }

    int size() const { return M_; }
    bool stopped(int m) const { return stopped_[m]; }

    // Steps first..last for every model still training; a model whose loss,
    // gradient or state is not finite stops (its log ends before that step).
    void train(int first, int last, std::vector<std::vector<StepRecord>>& logs) {
        FlushDenormals ftz;
        const ExperimentConfig& head = configs_.front();
        const int B = head.batch, R = int(head.regularizers.size());
        std::vector<F8> weights(R);
        for (int t = first; t <= last; ++t) {
            F8 step_size;
            std::vector<std::vector<float>> w(M_);
            for (int l = 0; l < F8::kLanes; ++l) {
                const int m = source(l);
                if (l < M_) {
                    const TrainingData& d = data_[m];
                    draw_batch(configs_[m].seed, t, B, d.points.data(), d.size(), d.dim, d.probabilities, int(head.labels.size()),
                               batches_[m]);
                    w[m] = configs_[m].weights_at(t);
                }
                const Batch& b = batches_[m];
                for (size_t i = 0; i < x_.size(); ++i) x_[i][l] = b.x[i];
                for (size_t i = 0; i < labels_.size(); ++i) labels_[i][l] = b.labels[i];
                for (int r = 0; r < R; ++r) weights[r][l] = w[m][r];
                step_size[l] = adam_step_size(configs_[m].lr_at(t), long(t) + 1);
            }
            const auto terms = objective_.evaluate(net_, params_.data(), x_.data(), labels_.data(), B, weights, grad_.data());
            const F8 grad_ok = finite_sum(grad_);
            adam_apply(params_.data(), grad_.data(), m_.data(), v_.data(), params_.size(), step_size, adam_bc2_sqrt(long(t) + 1));
            const F8 m_ok = finite_sum(m_), v_ok = finite_sum(v_), p_ok = finite_sum(params_);
            for (int m = 0; m < M_; ++m) {
                if (stopped_[m]) continue;
                StepRecord rec;
                rec.step = t;
                rec.lr = configs_[m].lr_at(t);
                rec.weights = w[m];
                rec.recon = terms.recon[m];
                rec.total = terms.total[m];
                for (int r = 0; r < R; ++r)
                    rec.reg.push_back(w[m][r] != 0.0f ? terms.reg[r][m] : std::numeric_limits<float>::quiet_NaN());
                // Not finite: the caller retrains this run alone, which names the culprit.
                if (!std::isfinite(rec.total) || grad_ok[m] != 0.0f || m_ok[m] != 0.0f || v_ok[m] != 0.0f ||
                    p_ok[m] != 0.0f) {
                    stopped_[m] = true;
                    continue;
                }
                logs[m].push_back(std::move(rec));
            }
        }
    }

    std::vector<ValidationRecord> validate(int step) {
        FlushDenormals ftz;
        const ExperimentConfig& head = configs_.front();
        const std::vector<F8> ones(head.regularizers.size(), F8(1.0f));
        const int rows = data_.front().validation.size;
        const auto terms = objective_.evaluate(net_, params_.data(), val_x_.data(), val_labels_.data(), rows, ones,
                                               static_cast<F8*>(nullptr), true);
        std::vector<ValidationRecord> out(M_);
        for (int m = 0; m < M_; ++m) {
            out[m].step = step;
            out[m].recon = terms.recon[m];
            for (const F8& r : terms.reg) out[m].reg.push_back(r[m]);
        }
        return out;
    }

    TrainState state(int m, int next_step) const {
        TrainState s;
        s.params = lane_of(params_, m);
        s.exp_avg = lane_of(m_, m);
        s.exp_avg_sq = lane_of(v_, m);
        s.next_step = next_step;
        return s;
    }

private:
    static int max_rows(const ExperimentConfig& cfg) { return std::max(cfg.batch, validation_set(cfg.grid).size()); }
    int source(int lane) const { return lane % M_; }

    std::vector<ExperimentConfig> configs_;
    int M_;
    std::vector<TrainingData> data_;
    std::vector<Batch> batches_;
    std::vector<bool> stopped_;
    CpuNet<F8> net_;
    Objective<F8> objective_;
    std::vector<F8> params_, m_, v_, grad_, x_, labels_, val_x_, val_labels_;
};

}  // namespace

std::string lane_refusal(const ExperimentConfig& cfg) {
    // Data from files can be wide, and each run has its own validation rows;
    // lanes are for the paper's small RGB models.
    if (cfg.file_data()) return "data from files (data.inputs)";
    for (const LinearLayer& L : linear_layers(cfg.model))
        if (takes_gemm(L, kGemmMinWidth)) return "a layer wide enough for the BLAS";
    return "";
}

std::string lane_group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b) {
    for (const ExperimentConfig* c : {&a, &b}) {
        const std::string why = lane_refusal(*c);
        if (!why.empty()) return why;
    }
    return group_incompatibility(a, b);
}

GroupRunResult train_single_run(const ExperimentConfig& cfg) {
    auto backend = make_cpu_backend(cfg);
    GroupRunResult out;
    const int T = cfg.last_step(), interval = cfg.validation_interval();
    for (int t = 0; t <= T;) {
        const int stop = std::min(T, ((t + interval - 1) / interval) * interval);
        const size_t before = out.log.size();
        backend->train(t, stop, out.log);
        if (out.log.size() - before != size_t(stop - t + 1)) break;  // stopped at a non-finite step
        if (stop % interval == 0 || stop == T) out.validation.push_back(backend->validate(stop));
        t = stop + 1;
    }
    out.state = backend->state();
    return out;
}

std::vector<GroupRunResult> train_lane_group(const std::vector<ExperimentConfig>& configs) {
    if (configs.empty() || configs.size() > size_t(kLaneGroupSize))
        throw std::invalid_argument("a lane group holds 1 to " + std::to_string(kLaneGroupSize) + " runs");
    for (const auto& cfg : configs) {
        const std::string why = lane_group_incompatibility(configs.front(), cfg);
        if (!why.empty()) throw std::invalid_argument("run seed " + std::to_string(cfg.seed) + " cannot join the lane group: " + why);
        check_memory_for(cfg);
    }
    LaneModels lanes(configs);
    const int M = lanes.size();
    const ExperimentConfig& first = configs.front();
    const int T = first.last_step(), interval = first.validation_interval();
    std::vector<GroupRunResult> out(M);
    std::vector<std::vector<StepRecord>> logs(M);
    for (int t = 0; t <= T;) {
        const int stop = std::min(T, ((t + interval - 1) / interval) * interval);
        lanes.train(t, stop, logs);
        if (stop % interval == 0 || stop == T) {
            const auto v = lanes.validate(stop);
            for (int m = 0; m < M; ++m)
                if (!lanes.stopped(m)) out[m].validation.push_back(v[m]);
        }
        t = stop + 1;
    }
    for (int m = 0; m < M; ++m) {
        if (lanes.stopped(m)) {
            out[m] = train_single_run(configs[m]);
            continue;
        }
        out[m].log = std::move(logs[m]);
        out[m].state = lanes.state(m, T + 1);
    }
    return out;
}

}  // namespace sca
