// The per-sample work of the wide-model trainer (cuda/wide_trainer.hpp), in
// kernels launched between its GEMMs: each fuses what PyTorch runs as
// separate passes (bias + GELU + its derivative; the normalization; every
// per-sample regularizer with its gradient; the bias gradient with the GELU
// derivative). All arrays hold `count` models back to back; activations are
// sample-major [B][width] (cuBLAS's column-major [width] x B). Sums over the
// batch use CUB's block reduction (a fixed tree): no float atomics.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/fused_model.hpp"

namespace sca::cuda {

// Step t's per-model values, read from the schedule tables:
// weights[m][r] (regularizer weights) for models first..first+count-1.
struct ScheduleView {
    const float* tables = nullptr;  // [n_tables][rows][3 + R]
    const int* table_of = nullptr;  // [M]
    int rows = 0, n_regs = 0;
};
void launch_step_weights(const ScheduleView& s, int first, int count, int step, float* weights);

// x[m][i][0..D) = points[p][..] and labels[m][i][l] for the drawn point p of
// sample i, as host/config/dataset.cpp draws them; points_out[m][i] = p if not null.
void launch_draw(const float* points, int n_points, int D, const float* probabilities, int L, const uint64_t* seeds,
                 int first, int count, int step, int B, float* x, float* labels, int* points_out);

// y[m][i][o] += bias[o] (bias at params + m P + bias_offset); with gelu,
// y = gelu(y) and deriv = gelu'(y).
void launch_bias_activation(float* y, const float* params, size_t P, size_t bias_offset, int width, int B, int count,
                            bool gelu, float* deriv);

// z = h / max(|h|, floor) per sample; inv = 1 / max(|h|, floor).
void launch_normalize(const float* h, int K, int B, int count, float* z, float* inv);

// Per sample: sq[m][i] = sum_c (y - x)^2; dyhat = 2 (y - x) / (B D) (model
// stride dyhat_stride). Affinities a[m][r][i] = clamp(sum_q labels f_q, 0, 1)
// of each labelled regularizer.
void launch_recon_and_affinities(const float* y, const float* x, int D, const float* labels, int L,
                                 const WideRegularizer* regs, int R, int B, int count, float* sq, size_t sq_stride,
                                 float* dyhat, size_t dyhat_stride, float* affinity);

// out[m][row] = sum_i in[m][row][i] over `rows` rows of B values each.
void launch_row_sums(const float* in, int rows, int B, int count, float* out);

// Per sample: omega[m][r][i] (reduction weights), the per-sample terms
// (every kind but separate), terms[m][1 + r][i] = omega_i l_i, and their
// gradients: dz, dh ([m][i][K]) are overwritten. affinity_sums[m][r] is
// sum_i affinity[m][r][i] (launch_row_sums).
void launch_sample_terms(const float* z, const float* h, int K, const WideRegularizer* regs, int R,
                         const float* affinity_sums, const float* affinity, const float* weights, int B, int count,
                         float* omega, float* terms, float* dz, float* dh);

// g (dL/dz from the decoder, [m][i][K] at model stride g_stride) += dz; back
// through the normalization; += dh.
void launch_normalize_backward(const float* h, const float* z, const float* inv, const float* dz, const float* dh,
                               int K, int B, int count, float* g, size_t g_stride);

// dy (model stride dy_stride) *= deriv: back through GELU, in place. (The
// bias gradient is then a GEMM of dy with a vector of ones.)
void launch_gelu_backward(float* dy, size_t dy_stride, const float* deriv, int width, int B, int count);

// Counts the non-finite entries of each model's gradient (model stride P) in
// nonfinite_partial_count() partial sums per model, summed in order by launch_finish.
int nonfinite_partial_count(size_t P);
void launch_nonfinite_count(const float* grad, size_t P, int count, float* partial);

// Per model: losses[m] = recon, L_r..., total (L_r NaN where skipped: weight
// 0 and not all_terms; 0 where no sample is labelled); a non-finite total or
// gradient entry stops model m at `step` (stopped[2m] = step,
// stopped[2m+1] = 1 if the gradient). Models already stopped are left alone.
// log (may be null): [M][steps][2 + R], this step's row at log_row.
struct FinishArgs {
    const float* sums;      // [M][1 + R]: sum of squared errors, then sum_i omega_i l_i
    const float* affinity_sums;  // [M][R]
    const WideRegularizer* regs;
    const float* weights;   // [M][R]
    const float* nonfinite;  // [M][nonfinite_partial_count(P)]
    int n_partial;
    int R, B, D, all_terms;
    float* losses;          // [M][2 + R]
    int* stopped;           // [M][2]
    float* log;
    int log_steps, log_row, step;
};
void launch_finish(const FinishArgs& a, int first, int count);

// Adam on every model not stopped, with step t's lr factors.
void launch_adam(const ScheduleView& s, int step, const int* stopped, float* params, const float* grad, float* exp_avg,
                 float* exp_avg_sq, size_t P, int first, int count);

}  // namespace sca::cuda
