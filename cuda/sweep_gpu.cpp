// The sweep's GPU path: a group of compatible runs through MultiModelTrainer,
// trained to each validation step in turn and validated there, like run.cpp
// does for one run. A group larger than the free device memory holds trains
// in as many launches as it needs.
#include "host/sweep/sweep_gpu.hpp"

#include <algorithm>

#include "cuda/multi_model.hpp"

namespace sca {

namespace {

std::vector<GroupRunResult> train_launch(const std::vector<ExperimentConfig>& configs) {
    cuda::MultiModelTrainer trainer(configs);
    const int M = trainer.size();
    const ExperimentConfig& first = configs.front();
    const int T = first.last_step(), interval = first.validation_interval();
    std::vector<GroupRunResult> out(M);
    std::vector<std::vector<StepRecord>> logs;
    for (int t = 0; t <= T;) {
        const int stop = std::min(T, ((t + interval - 1) / interval) * interval);
        logs.assign(M, {});
        trainer.train(t, stop, &logs);
        for (int m = 0; m < M; ++m) {
            out[m].log.insert(out[m].log.end(), logs[m].begin(), logs[m].end());
            if (stop % interval == 0 || stop == T) out[m].validation.push_back(trainer.validate(m, stop));
        }
        t = stop + 1;
    }
    for (int m = 0; m < M; ++m) out[m].state = trainer.state(m);
    return out;
}

}  // namespace

std::string gpu_group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b) {
    return cuda::incompatibility(a, b);
}

std::vector<GroupRunResult> train_group_on_gpu(const std::vector<ExperimentConfig>& configs) {
    const cuda::DeviceFootprint need = cuda::group_footprint(configs.front());
    // Leave a tenth of the free memory to the runtime and other processes.
    const int fit = std::max(1, need.models_within(cuda::device_memory().first / 10 * 9));
    std::vector<GroupRunResult> out;
    for (size_t begin = 0; begin < configs.size(); begin += size_t(fit)) {
        const size_t end = std::min(configs.size(), begin + size_t(fit));
        auto part = train_launch({configs.begin() + long(begin), configs.begin() + long(end)});
        for (auto& r : part) out.push_back(std::move(r));
    }
    return out;
}

}  // namespace sca
