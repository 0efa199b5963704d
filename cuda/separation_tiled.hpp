// The separation term for large batches (B up to 16384 and beyond), tiled
// like attention: each block holds a tile of rows in registers and streams
// tiles of columns through shared memory, so no B x B matrix ever exists.
// Columns are also split across blocks (kSplits partial sums per row, then
// combined in a fixed order): deterministic, no atomics.
#pragma once
#include <cstddef>
#include <vector>

#include "cuda/device_buffer.hpp"

namespace sca::cuda {

struct SeparationProblem {
    int batch = 0, latent = 0;
    int power = 100;
    bool shift = true;
    float weight = 1.0f;  // w: the gradient is of w * sum_i omega_i l_i
};

// The term on device arrays, for `problems` independent problems of one
// shape at once (the wide-model trainer's M models; each may have its own
// weight). Problem q reads u + q B K, omega + q omega_stride and its weight
// weights[q weight_stride] (or `weight` where weights is null); writes
// partial + q splits B (K+1), row_loss + q B and
// weighted + q weighted_stride (omega_i l_i, either may be null), and sets or
// (accumulate_dz) adds its gradient to dz + q B K.
struct SeparationArrays {
    int batch = 0, latent = 0, power = 100, problems = 1;
    bool shift = true, accumulate_dz = false;
    float weight = 1.0f;
    const float* weights = nullptr;
    size_t weight_stride = 0;
    const float* z = nullptr;  // [problems][B][K]
    const float* u = nullptr;  // unit vectors of z (separation_unit_vectors)
    const float* omega = nullptr;
    size_t omega_stride = 0;
    float* partial = nullptr;  // separation_partial_floats(B, K) per problem
    float* row_loss = nullptr;
    float* weighted = nullptr;
    size_t weighted_stride = 0;
    float* dz = nullptr;
};
int separation_splits(int batch);
size_t separation_partial_floats(int batch, int latent);
void separation_unit_vectors(const float* z, int rows, int latent, float* u);  // rows = problems x B
void launch_separation(const SeparationArrays& a);  // asynchronous

// Host-side driver with its own device buffers (benchmarks, tests).
class DeviceSeparation {
public:
    // z: normalized latents, sample-major [B][K]; omega: reduction weights [B].
    DeviceSeparation(const SeparationProblem& problem, const std::vector<float>& z, const std::vector<float>& omega);
    DeviceSeparation(const DeviceSeparation&) = delete;
    DeviceSeparation& operator=(const DeviceSeparation&) = delete;

    void run();  // launches (asynchronous)
    // Average milliseconds per run() over `reps` runs after one warm-up.
    double time_ms(int reps);
    float loss() const;                   // sum_i omega_i l_i
    std::vector<float> row_loss() const;  // l_i
    std::vector<float> dz() const;        // [B][K]
    int splits() const { return splits_; }
    // Floating-point operations one run performs, counted per pair as in docs/cuda.md.
    double flops() const;

private:
    SeparationProblem p_;
    int splits_ = 1;
    DeviceBuffer<float> z_, u_, omega_, partial_, row_loss_, dz_, loss_;
};

}  // namespace sca::cuda
