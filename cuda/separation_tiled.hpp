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
