// What MultiModelTrainer needs from a device trainer of M models of one
// shape: the fused one-block-per-model kernel (DeviceTrainer, the paper's
// small shapes) or the cuBLAS path (WideTrainer, wide models and data from
// files). Both stop a model at a non-finite step the same way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/device_buffer.hpp"

namespace sca::cuda {

// The result of one forward + loss + backward on the device (tests, checks).
struct DeviceEvaluation {
    float recon = 0, total = 0;
    std::vector<float> reg;       // L_r (NaN where skipped)
    std::vector<float> grad;      // [P]
    std::vector<float> x, labels; // the batch used, [D][B] and [L][B]
    std::vector<int> points;      // grid index of each sample (drawn batches)
};

class DeviceModels {
public:
    virtual ~DeviceModels() = default;
    virtual int n_models() const = 0;
    virtual int n_params() const = 0;
    virtual std::string path() const = 0;  // "fused" or "cublas"
    virtual void set_state(int m, const float* params, const float* exp_avg, const float* exp_avg_sq) = 0;
    virtual void get_state(int m, float* params, float* exp_avg, float* exp_avg_sq) const = 0;
    // Trains steps first..last (inclusive, absolute) of every model; log
    // (host, may be null): [M][last-first+1][2 + R]: recon, L_r..., total.
    // A model whose loss or gradient is not finite at step t logs t and
    // stops there before the update (stopped_at(m) == t), like the CPU
    // backend; it trains again only after set_state().
    virtual void train(int first, int last, float* log) = 0;
    virtual int stopped_at(int m) const = 0;  // -1: not stopped
    virtual bool stopped_on_gradient(int m) const = 0;
    // One forward/loss/backward of model m's current parameters, no update.
    // x/labels (host, feature-major) may be null: then step `step`'s batch is drawn.
    virtual DeviceEvaluation evaluate(int m, int step, const float* x, const float* labels,
                                      const std::vector<float>& weights, bool all_terms) const = 0;
};

// What both trainers keep alike: M models' parameters and Adam moments
// ([M][P] each), where each stopped at a non-finite step ([M][2]: the
// step or -1, and 1 if the gradient was the cause), and the inputs both
// read: label probabilities, seeds, schedule tables and each model's table.
class DeviceModelStates : public DeviceModels {
public:
    int n_models() const override { return n_models_; }
    int n_params() const override { return int(n_params_); }
    void set_state(int m, const float* params, const float* exp_avg, const float* exp_avg_sq) override {
        const size_t P = n_params_, off = size_t(m) * P;
        SCA_CUDA_CHECK(cudaMemcpy(params_.get() + off, params, P * sizeof(float), cudaMemcpyHostToDevice));
        SCA_CUDA_CHECK(cudaMemcpy(exp_avg_.get() + off, exp_avg, P * sizeof(float), cudaMemcpyHostToDevice));
        SCA_CUDA_CHECK(cudaMemcpy(exp_avg_sq_.get() + off, exp_avg_sq, P * sizeof(float), cudaMemcpyHostToDevice));
        SCA_CUDA_CHECK(cudaMemset(stopped_.get() + 2 * m, 0xff, 2 * sizeof(int)));  // a new state trains again
        stopped_host_[2 * size_t(m)] = stopped_host_[2 * size_t(m) + 1] = -1;
    }
    void get_state(int m, float* params, float* exp_avg, float* exp_avg_sq) const override {
        const size_t P = n_params_, off = size_t(m) * P;
        SCA_CUDA_CHECK(cudaMemcpy(params, params_.get() + off, P * sizeof(float), cudaMemcpyDeviceToHost));
        if (exp_avg) SCA_CUDA_CHECK(cudaMemcpy(exp_avg, exp_avg_.get() + off, P * sizeof(float), cudaMemcpyDeviceToHost));
        if (exp_avg_sq)
            SCA_CUDA_CHECK(cudaMemcpy(exp_avg_sq, exp_avg_sq_.get() + off, P * sizeof(float), cudaMemcpyDeviceToHost));
    }
    int stopped_at(int m) const override { return stopped_host_[2 * size_t(m)]; }
    bool stopped_on_gradient(int m) const override { return stopped_host_[2 * size_t(m) + 1] == 1; }

protected:
    DeviceModelStates(int n_models, size_t n_params) : n_models_(n_models), n_params_(n_params) {}
    // Allocates the states (zero) and clears the stops; called once the
    // trainer has checked that everything fits.
    void allocate_states() {
        const size_t n = size_t(n_models_) * n_params_;
        params_ = DeviceBuffer<float>(n, "parameters");
        exp_avg_ = DeviceBuffer<float>(n, "Adam first moments");
        exp_avg_sq_ = DeviceBuffer<float>(n, "Adam second moments");
        for (const auto* b : {&params_, &exp_avg_, &exp_avg_sq_}) SCA_CUDA_CHECK(cudaMemset(b->get(), 0, n * sizeof(float)));
        stopped_ = DeviceBuffer<int>(size_t(2) * n_models_, "non-finite stops");
        SCA_CUDA_CHECK(cudaMemset(stopped_.get(), 0xff, stopped_.size() * sizeof(int)));
        stopped_host_.assign(stopped_.size(), -1);
    }
    // Uploads the inputs every step reads (after the memory check, like
    // allocate_states). probabilities may be empty (no labels).
    void upload_inputs(const std::vector<float>& probabilities, const std::vector<uint64_t>& seeds,
                       const std::vector<float>& schedules, const std::vector<int>& schedule_of) {
        probabilities_ = DeviceBuffer<float>(probabilities.empty() ? std::vector<float>{0.0f} : probabilities,
                                             "label probabilities");
        seeds_ = DeviceBuffer<uint64_t>(seeds, "seeds");
        schedules_ = DeviceBuffer<float>(schedules, "schedule tables");
        schedule_of_ = DeviceBuffer<int>(schedule_of, "schedule indices");
    }

    int n_models_ = 0;
    size_t n_params_ = 0;
    DeviceBuffer<float> params_, exp_avg_, exp_avg_sq_;
    DeviceBuffer<int> stopped_;
    std::vector<int> stopped_host_;  // its copy after each train()
    DeviceBuffer<float> probabilities_, schedules_;  // [L][points]; [tables][rows][3 + R]
    DeviceBuffer<uint64_t> seeds_;                   // [M]
    DeviceBuffer<int> schedule_of_;                  // [M]: each model's schedule table
};

}  // namespace sca::cuda
