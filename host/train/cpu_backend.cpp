// The CPU backend: the reference the CUDA backend is checked against.
#include <cmath>
#include <algorithm>
#include <limits>
#include <string>

#include "host/train/adam.hpp"
#include "host/train/finite.hpp"
#include "host/train/flush_denormals.hpp"
#include "host/train/backend.hpp"
#include "host/config/checkpoint.hpp"
#include "host/config/dataset.hpp"
#include "host/config/memory_check.hpp"
#include "host/train/objective.hpp"

namespace sca {

namespace {

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(const ExperimentConfig& cfg)
        : cfg_(cfg),
          data_(training_data(cfg)),
          net_(cfg.model, std::max(cfg.batch, data_.validation.size)),
          objective_(cfg.model, cfg.regularizers, std::max(cfg.batch, data_.validation.size)) {
        state_ = initial_state(cfg);
        grad_.resize(state_.params.size());
    }

    std::string name() const override { return "cpu"; }
    void load_state(const TrainState& s) override { state_ = s; }
    TrainState state() override { return state_; }

    void train(int first, int last, std::vector<StepRecord>& log) override {
        FlushDenormals ftz;
        for (int t = first; t <= last; ++t) {
            draw_batch(cfg_.seed, t, cfg_.batch, data_.points.data(), data_.size(), data_.dim, data_.probabilities,
                       int(cfg_.labels.size()), batch_);
            StepRecord rec;
            rec.step = t;
            rec.lr = cfg_.lr_at(t);
            rec.weights = cfg_.weights_at(t);
            const auto terms = objective_.evaluate(net_, state_.params.data(), batch_.x.data(), batch_.labels.data(),
                                                   batch_.size, rec.weights, grad_.data());
            rec.recon = terms.recon;
            rec.total = terms.total;
            for (size_t r = 0; r < terms.reg.size(); ++r)
                rec.reg.push_back(terms.computed[r] ? terms.reg[r] : std::numeric_limits<float>::quiet_NaN());
            // A non-finite loss or gradient stops here, before the update, so
            // the state stays that of the last good step (the caller reports it).
            if (!std::isfinite(terms.total) || !all_finite(grad_)) {
                if (!all_finite(grad_)) rec.bad_gradient = gradient_culprit(rec.weights);
                log.push_back(std::move(rec));
                return;
            }
            adam_update(state_.params.data(), grad_.data(), state_.exp_avg.data(), state_.exp_avg_sq.data(),
                        grad_.size(), rec.lr, long(t) + 1);
            // A finite gradient can still overflow a moment (g^2) or a
            // parameter (a huge step): stop at this step, naming which.
            rec.bad_state = !all_finite(state_.exp_avg)      ? "exp_avg"
                            : !all_finite(state_.exp_avg_sq) ? "exp_avg_sq"
                            : !all_finite(state_.params)     ? "parameters"
                                                             : "";
            if (!rec.bad_state.empty()) {
                log.push_back(std::move(rec));
                return;
            }
            log.push_back(std::move(rec));
            state_.next_step = t + 1;
        }
    }

    ValidationRecord validate(int step) override {
        FlushDenormals ftz;
        const std::vector<float> ones(cfg_.regularizers.size(), 1.0f);
        const Batch& val = data_.validation;
        const auto terms = objective_.evaluate(net_, state_.params.data(), val.x.data(), val.labels.data(), val.size, ones,
                                               nullptr, true);
        ValidationRecord v;
        v.step = step;
        v.recon = terms.recon;
        v.reg.assign(terms.reg.begin(), terms.reg.end());
        return v;
    }

private:
    // Which term's gradient is not finite at the current batch: the
    // reconstruction alone first, then each weighted regularizer alone.
    std::string gradient_culprit(const std::vector<float>& weights) {
        std::vector<float> only(weights.size(), 0.0f);
        auto bad = [&] {
            objective_.evaluate(net_, state_.params.data(), batch_.x.data(), batch_.labels.data(), batch_.size, only,
                                grad_.data());
            return !all_finite(grad_);
        };
        if (bad()) return "recon";
        for (size_t r = 0; r < weights.size(); ++r) {
            if (weights[r] == 0.0f) continue;
            std::fill(only.begin(), only.end(), 0.0f);
            only[r] = weights[r];
            if (bad()) return cfg_.regularizers[r].name;
        }
        return "total";  // each term is finite alone; only their sum overflows
    }

    const ExperimentConfig& cfg_;
    TrainingData data_;
    Batch batch_;
    CpuNet<float> net_;
    Objective<float> objective_;
    TrainState state_;
    std::vector<float> grad_;
};

}  // namespace

TrainState initial_state(const ExperimentConfig& cfg) {
    TrainState s;
    // Fine-tuning starts from the given model (shape checked when the config
    // loaded) with fresh Adam moments; otherwise from the seed.
    s.params = cfg.init.empty() ? init_parameters(cfg.model, cfg.seed)
                                : params_from(load_safetensors(cfg.init), cfg.model, cfg.init);
    s.exp_avg.assign(s.params.size(), 0.0f);
    s.exp_avg_sq.assign(s.params.size(), 0.0f);
    return s;
}

std::unique_ptr<Backend> make_cpu_backend(const ExperimentConfig& cfg) {
    check_memory_for(cfg);  // before allocating: a clear refusal, not bad_alloc mid-run
    return std::make_unique<CpuBackend>(cfg);
}

}  // namespace sca
