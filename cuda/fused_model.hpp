// The fused trainer's view of one model shape: plain structs (no yaml, no
// C++20) shared by the .cu kernels and the C++20 glue that builds them from an
// ExperimentConfig. One thread block trains one model; everything a step
// touches lives in that block's shared memory at the float offsets below.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/device_buffer.hpp"
#include "cuda/device_models.hpp"
#include "kernels/regularizers.hpp"

namespace sca::cuda {

constexpr int kFusedThreads = 256;   // threads per model (block)
constexpr int kFusedMaxLinear = 10;  // N <= 4 nonlinear layers per side
constexpr int kFusedMaxRegs = 8;
constexpr int kFusedMaxLabels = 16;
constexpr int kSeparationLanes = 4;  // threads sharing one row of the B x B separation term
// The widest latent the fused kernel trains: its per-sample latent arrays live
// in each thread's stack, and FusedModel (with every regularizer's direction)
// is a kernel argument. Wider latents take the cuBLAS path (fused_refusal).
constexpr int kFusedMaxLatent = 32;

struct FusedLinear {
    int in = 0, out = 0;
    int weight = 0, bias = 0;  // offsets into the flat parameter vector (host layout)
    int gelu_after = 0;
    int input = 0, output = 0, deriv = -1;  // shared-memory offsets, [feature][ld]
};

// A regularizer as a device kernel reads it: Params is the fused kernel's
// narrow RegParamsUpTo<kFusedMaxLatent> or the cuBLAS path's full RegParams.
template <class Params>
struct DeviceRegularizer {
    Params params;
    int n_affinities = 0;  // 0: every sample counts (plain mean)
    int label[kFusedMaxLabels] = {};
    float factor[kFusedMaxLabels] = {};
};
using FusedRegularizer = DeviceRegularizer<RegParamsUpTo<kFusedMaxLatent>>;
using WideRegularizer = DeviceRegularizer<RegParams>;

struct FusedModel {
    int input_dim = 3, latent = 4, batch = 64, ld = 65;  // ld: padded batch stride (odd: no bank conflicts)
    int n_linear = 0, n_encoder = 0, n_params = 0;
    int n_points = 0, n_labels = 0, n_regs = 0;
    FusedLinear linear[kFusedMaxLinear];
    FusedRegularizer regs[kFusedMaxRegs];
    // Shared-memory layout in floats.
    int s_params = 0, s_grad = 0, s_m = 0, s_v = 0;
    int s_h = 0;                 // pre-norm latent h [K][ld]
    int s_ga = 0, s_gb = 0;      // gradient ping-pong [width][ld]
    int s_labels = 0;            // [L][ld]
    int s_inv = 0;               // 1 / max(|h|, floor) [ld]
    int s_dz = 0, s_dh = 0;      // regularizer gradients [K][ld]
    int s_u = 0;                 // unit vectors, sample-major [B][K]
    int s_omega = 0;             // reduction weights [B]
    int s_misc = 0;              // broadcast slots
    int smem_floats = 0;

    SCA_HD int schedule_stride() const { return 3 + n_regs; }  // lr, adam step size, sqrt(bias correction 2), weights
    SCA_HD int log_stride() const { return 2 + n_regs; }       // recon, L_r..., total
};

// Fills the shared-memory offsets; returns the bytes one block needs.
size_t layout_fused_model(FusedModel& m);
// Empty if one block of m fits in the current device's shared memory, else why not.
std::string fused_shared_memory_refusal(FusedModel m);

// Device memory a DeviceTrainer needs: `shared` once (grid, label
// probabilities), `per_model` for each model (parameters, Adam moments, seed,
// its own schedule table in the worst case, a log of `log_steps` steps).
struct DeviceFootprint {
    size_t shared = 0, per_model = 0;
    size_t bytes(int n_models) const { return shared + size_t(n_models) * per_model; }
    // The most models that fit in `bytes` (0 if not even one).
    int models_within(size_t bytes) const {
        if (bytes <= shared || per_model == 0) return 0;
        const size_t n = (bytes - shared) / per_model;
        return n > size_t(1) << 30 ? 1 << 30 : int(n);
    }
};
DeviceFootprint device_footprint(const FusedModel& m, int rows, int log_steps);
// Throws DeviceMemoryError, saying how many models fit, if n_models do not
// fit in the device's free memory: before a trainer allocates anything.
void require_device_memory(const DeviceFootprint& need, int n_models);

// Device buffers and kernels for M models of one shape, trained together.
class DeviceTrainer final : public DeviceModelStates {
public:
    // grid [n_points][D]; probabilities [L][n_points]; seeds [M];
    // schedules: `n_schedules` tables of `rows` x schedule_stride(); schedule_of[M] picks one.
    DeviceTrainer(const FusedModel& model, int n_models, const std::vector<float>& grid,
                  const std::vector<float>& probabilities, const std::vector<uint64_t>& seeds,
                  const std::vector<float>& schedules, int rows, const std::vector<int>& schedule_of);
    DeviceTrainer(const DeviceTrainer&) = delete;
    DeviceTrainer& operator=(const DeviceTrainer&) = delete;

    std::string path() const override { return "fused"; }
    const FusedModel& model() const { return model_; }
    void get_params_all(float* params) const;  // [M][P]
    // Trains steps first..last (inclusive, absolute) of every model in one
    // launch; log (host, may be null): [M][last-first+1][log_stride()].
    // A model whose loss or gradient is not finite at step t logs t and
    // stops there before the update (stopped_at(m) == t), like the CPU
    // backend; it trains again only after set_state().
    void train(int first, int last, float* log) override;
    // One forward/loss/backward of model m's current parameters, no update.
    // x/labels (host, feature-major) may be null: then step `step`'s batch is drawn.
    DeviceEvaluation evaluate(int m, int step, const float* x, const float* labels, const std::vector<float>& weights,
                              bool all_terms) const override;

private:
    FusedModel model_;
    int rows_ = 0;
    size_t smem_bytes_ = 0;
    DeviceBuffer<float> grid_;
    DeviceBuffer<float> log_;
};

// Device count and the first device's name; "" reason when usable.
std::string device_unavailable_reason();
std::string device_description();  // "NVIDIA H100 80GB HBM3, driver 12.x, sm_90" or ""

}  // namespace sca::cuda
