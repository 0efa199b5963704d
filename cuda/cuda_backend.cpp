// The CUDA backend: a MultiModelTrainer of one model behind sca::Backend.
// Weights and Adam moments stay on the device between train() calls; state()
// and validate() copy the parameters back (validation runs on the CPU oracle,
// 351 colours once per T/10 steps, so both backends validate identically).
#include <stdexcept>

#include "cuda/multi_model.hpp"
#include "host/train/cuda_bridge.hpp"

namespace sca {

namespace {

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(const ExperimentConfig& cfg) : trainer_({cfg}) {}
    std::string name() const override { return "cuda"; }
    void load_state(const TrainState& s) override { trainer_.load_state(0, s); }
    TrainState state() override { return trainer_.state(0); }
    void train(int first, int last, std::vector<StepRecord>& log) override {
        std::vector<std::vector<StepRecord>> logs;
        trainer_.train(first, last, &logs);
        for (auto& r : logs[0]) log.push_back(std::move(r));
    }
    ValidationRecord validate(int step) override { return trainer_.validate(0, step); }

private:
    cuda::MultiModelTrainer trainer_;
};

}  // namespace

bool cuda_compiled() { return true; }

std::string cuda_unavailable_reason() { return cuda::device_unavailable_reason(); }

std::unique_ptr<Backend> make_cuda_backend(const ExperimentConfig& cfg) {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) throw std::runtime_error("the CUDA backend cannot run here: " + why);
    return std::make_unique<CudaBackend>(cfg);
}

}  // namespace sca
