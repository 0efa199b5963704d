// The cuBLAS training path: M models of one shape, any width the config
// allows, data from the RGB grid or from files. Per step: every Linear layer
// is one GEMM for all M models (cublasSgemmStridedBatched; a plain
// cublasSgemm for one model) forward and two backward (weights, inputs);
// the per-sample work runs in fused kernels between them (wide_kernels.hpp);
// the separation term is the tiled one (separation_tiled.hpp), O(B K)
// memory. Everything stays on the device between train() calls; the host
// synchronizes once per call. Deterministic: fixed cuBLAS configuration
// (blas_handle.hpp), fixed-order reductions, no float atomics.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "cuda/device_buffer.hpp"
#include "cuda/device_models.hpp"
#include "cuda/fused_model.hpp"

namespace sca::cuda {

struct WideLayer {
    int in = 0, out = 0;
    size_t weight = 0, bias = 0;  // offsets into the flat parameter vector (host layout)
    bool gelu = false;
};

struct WideShape {
    int input_dim = 3, latent = 4, batch = 64, n_encoder = 0, n_labels = 0;
    size_t n_params = 0;
    std::vector<WideLayer> layers;
    std::vector<WideRegularizer> regs;
    int max_width() const;
};

// Device memory of a WideTrainer: shared (data points, label
// probabilities, the cuBLAS workspace) and per model (parameters, gradient,
// Adam moments, activations, loss scratch, its schedule table in the worst
// case, a log of `log_steps` steps).
DeviceFootprint wide_footprint(const WideShape& s, int n_points, int rows, int log_steps);

class BlasHandle;

class WideTrainer final : public DeviceModelStates {
public:
    // points [n_points][input_dim]; probabilities [L][n_points]; seeds [M];
    // schedules: tables of rows x (3 + R), schedule_of[M] picks one.
    WideTrainer(const WideShape& shape, int n_models, const std::vector<float>& points,
                const std::vector<float>& probabilities, const std::vector<uint64_t>& seeds,
                const std::vector<float>& schedules, int rows, const std::vector<int>& schedule_of);
    ~WideTrainer() override;
    WideTrainer(const WideTrainer&) = delete;
    WideTrainer& operator=(const WideTrainer&) = delete;

    std::string path() const override { return "cublas"; }
    void train(int first, int last, float* log) override;
    DeviceEvaluation evaluate(int m, int step, const float* x, const float* labels, const std::vector<float>& weights,
                              bool all_terms) const override;

private:
    // Forward, loss and backward of models m0..m0+count-1 at step t (their
    // weights already in weights_); leaves losses_ and the gradient.
    void step(int m0, int count, int t, bool draw, bool all_terms, const std::vector<char>& needed, int* stopped,
              float* log, int log_steps, int log_row) const;
    std::vector<char> needed_at(int t) const;  // per regularizer: some model weights it at step t

    WideShape shape_;
    int rows_ = 0, n_points_ = 0;
    std::unique_ptr<BlasHandle> blas_;
    std::vector<float> schedules_host_;
    std::vector<int> schedule_of_host_;
    DeviceBuffer<float> points_;
    DeviceBuffer<WideRegularizer> regs_;
    DeviceBuffer<float> grad_;
    // Per-step scratch (evaluate() uses it too, hence mutable).
    mutable std::vector<DeviceBuffer<float>> act_, deriv_;  // act_[l]: layer l's input [M][B][in]; act_[n]: the output
    mutable DeviceBuffer<float> h_, inv_, labels_, ga_, gb_, dz_, dh_, u_, partial_;
    mutable DeviceBuffer<float> affinity_, affinity_sums_, omega_, terms_, sums_, weights_, losses_, log_, nonfinite_;
    DeviceBuffer<float> ones_;  // [B] ones: the bias gradient as a GEMM
};

}  // namespace sca::cuda
