// Kernels of the wide-model trainer (see wide_kernels.hpp). Grid: x strides
// over samples or features, y is the model; reductions are CUB block sums.
#include <cub/block/block_reduce.cuh>

#include <cmath>

#include "cuda/cuda_check.hpp"
#include "cuda/device_seam.hpp"
#include "cuda/wide_kernels.hpp"
#include "kernels/data_stream.hpp"
#include "kernels/gelu.hpp"
#include "kernels/sphere_adam.hpp"

namespace sca::cuda {

namespace {

constexpr int kThreads = 256;
using BlockReduce = cub::BlockReduce<float, kThreads>;

// Blocks along x for n items: grid-stride loops cover the rest. The emulator
// runs a block as 256 host threads, so there a model gets one block.
dim3 grid_for(size_t n, int count) {
#if defined(SCA_CUDA_EMU)
    const size_t cap = 1;
#else
    const size_t cap = 1024;
#endif
    size_t blocks = (n + kThreads - 1) / kThreads;
    blocks = blocks < 1 ? 1 : (blocks > cap ? cap : blocks);
    return dim3(unsigned(blocks), unsigned(count));
}

#define SCA_FOR_EACH(i, n) for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < (n); i += size_t(gridDim.x) * blockDim.x)

__device__ inline bool finite(float x) { return x - x == 0.0f; }

__device__ inline const float* schedule_row(const ScheduleView& s, int model, int step) {
    return s.tables + (size_t(s.table_of[model]) * s.rows + step) * (3 + s.n_regs);
}

__global__ void step_weights_kernel(const ScheduleView s, int first, int count, int step, float* weights) {
    SCA_FOR_EACH(e, size_t(count) * s.n_regs) {
        const int m = int(e / s.n_regs), r = int(e % s.n_regs);
        weights[e] = schedule_row(s, first + m, step)[3 + r];
    }
}

__global__ void draw_kernel(const float* points, int n_points, int D, const float* probabilities, int L,
                            const uint64_t* seeds, int first, int step, int B, float* x, float* labels, int* points_out) {
    const int m = blockIdx.y;
    const uint64_t seed = seeds[first + m];
    SCA_FOR_EACH(i, size_t(B)) {
        const uint32_t p = batch_point(seed, uint32_t(step), uint32_t(i), uint32_t(n_points));
        if (points_out) points_out[size_t(m) * B + i] = int(p);
        float* xi = x + (size_t(m) * B + i) * D;
        for (int c = 0; c < D; ++c) xi[c] = points[size_t(p) * D + c];
        for (int l = 0; l < L; ++l) {
            const float prob = probabilities[size_t(l) * n_points + p];
            labels[(size_t(m) * B + i) * L + l] =
                prob > 0.0f && label_uniform(seed, uint32_t(step), uint32_t(i), uint32_t(l)) < prob ? 1.0f : 0.0f;
        }
    }
}

__global__ void bias_activation_kernel(float* y, const float* params, size_t P, size_t bias_offset, int width, int B,
                                       int gelu, float* deriv) {
    const int m = blockIdx.y;
    const float* bias = params + size_t(m) * P + bias_offset;
    const size_t base = size_t(m) * B * width;
    SCA_FOR_EACH(e, size_t(B) * width) {
        const float a = y[base + e] + bias[e % width];
        if (gelu)
            gelu_erfc(a, y[base + e], deriv[base + e]);
        else
            y[base + e] = a;
    }
}

__global__ void normalize_kernel(const float* h, int K, int B, float* z, float* inv) {
    const int m = blockIdx.y;
    SCA_FOR_EACH(i, size_t(B)) {
        const size_t row = size_t(m) * B + i;
        inv[row] = sphere_normalize(h + row * K, K, z + row * K);
    }
}

__global__ void recon_affinity_kernel(const float* y, const float* x, int D, const float* labels, int L,
                                      const WideRegularizer* regs, int R, int B, float* sq, size_t sq_stride,
                                      float* dyhat, size_t dyhat_stride, float* affinity) {
    const int m = blockIdx.y;
    const float scale = 1.0f / float(size_t(B) * D);
    SCA_FOR_EACH(i, size_t(B)) {
        const size_t row = size_t(m) * B + i;
        float s = 0.0f;
        for (int c = 0; c < D; ++c) {
            const float d = y[row * D + c] - x[row * D + c];
            s += d * d;
            dyhat[m * dyhat_stride + i * D + c] = 2.0f * d * scale;
        }
        sq[m * sq_stride + i] = s;
        for (int r = 0; r < R; ++r) {
            const WideRegularizer& reg = regs[r];
            if (reg.n_affinities == 0) continue;
            float a = 0.0f;
            for (int q = 0; q < reg.n_affinities; ++q) a += labels[row * L + reg.label[q]] * reg.factor[q];
            affinity[(size_t(m) * R + r) * B + i] = a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
        }
    }
}

// One block per (row, model): a fixed-order sum of B values.
__global__ void __launch_bounds__(kThreads) row_sums_kernel(const float* in, int rows, int B, float* out) {
    __shared__ typename BlockReduce::TempStorage tmp;
    const size_t row = size_t(blockIdx.y) * rows + blockIdx.x;
    float part = 0.0f;
    for (int i = threadIdx.x; i < B; i += blockDim.x) part += in[row * B + i];
    const float total = BlockReduce(tmp).Sum(part);
    if (threadIdx.x == 0) out[row] = total;
}

__global__ void sample_terms_kernel(const float* z, const float* h, int K, const WideRegularizer* regs, int R,
                                    const float* affinity_sums, const float* affinity, const float* weights, int B,
                                    float* omega, float* terms, float* dz, float* dh) {
    const int m = blockIdx.y;
    SCA_FOR_EACH(i, size_t(B)) {
        const size_t row = size_t(m) * B + i;
        float* dzi = dz + row * K;
        float* dhi = dh + row * K;
        for (int k = 0; k < K; ++k) dzi[k] = 0.0f, dhi[k] = 0.0f;
        for (int r = 0; r < R; ++r) {
            const WideRegularizer& reg = regs[r];
            const size_t at = (size_t(m) * R + r) * B + i;
            float o;
            if (reg.n_affinities == 0) {
                o = 1.0f / float(B);
            } else {
                const float sum = affinity_sums[size_t(m) * R + r];
                o = sum == 0.0f ? 0.0f : affinity[at] * (1.0f / (sum + kLabelEps));  // no labelled sample: no term
            }
            omega[at] = o;
            if (reg.params.kind == RegKind::Separate) continue;  // pairwise: launch_separation
            float l = 0.0f;
            if (o != 0.0f) {
                const float w = weights[size_t(m) * R + r];
                l = sample_term(reg.params, z + row * K, h + row * K, K, w * o, dzi, dhi);
            }
            terms[(size_t(m) * (R + 1) + 1 + r) * B + i] = o * l;
        }
    }
}

__global__ void normalize_backward_kernel(const float* h, const float* z, const float* inv, const float* dz,
                                          const float* dh, int K, int B, float* g, size_t g_stride) {
    const int m = blockIdx.y;
    SCA_FOR_EACH(i, size_t(B)) {
        const size_t row = size_t(m) * B + i;
        float* gi = g + m * g_stride + i * K;
        for (int k = 0; k < K; ++k) gi[k] += dz[row * K + k];
        sphere_normalize_backward(h + row * K, z + row * K, inv[row], K, gi);
        for (int k = 0; k < K; ++k) gi[k] += dh[row * K + k];
    }
}

__global__ void gelu_backward_kernel(float* dy, size_t dy_stride, const float* deriv, int width, int B) {
    const int m = blockIdx.y;
    float* d = dy + m * dy_stride;
    const float* dv = deriv + size_t(m) * B * width;
    SCA_FOR_EACH(e, size_t(B) * width) d[e] *= dv[e];
}

// Block x of model y counts its grid-stride share of the gradient's non-finite entries.
__global__ void __launch_bounds__(kThreads) nonfinite_count_kernel(const float* grad, size_t P, float* partial) {
    __shared__ typename BlockReduce::TempStorage tmp;
    const int m = blockIdx.y;
    float bad = 0.0f;
    SCA_FOR_EACH(p, P) bad += finite(grad[size_t(m) * P + p]) ? 0.0f : 1.0f;
    const float total = BlockReduce(tmp).Sum(bad);
    if (threadIdx.x == 0) partial[size_t(m) * gridDim.x + blockIdx.x] = total;
}

__global__ void finish_kernel(const FinishArgs a, int first) {
    const int m = blockIdx.x, model = first + m;
    if (a.stopped[2 * model] >= 0) return;  // stopped earlier: nothing trains, nothing is logged
    float n_bad = 0.0f;
    for (int q = 0; q < a.n_partial; ++q) n_bad += a.nonfinite[size_t(m) * a.n_partial + q];
    const int R = a.R;
    const float* sums = a.sums + size_t(m) * (R + 1);
    float* out = a.losses + size_t(m) * (R + 2);
    const float recon = sums[0] * (1.0f / float(size_t(a.B) * a.D));
    float total = recon;
    out[0] = recon;
    for (int r = 0; r < R; ++r) {
        const float w = a.weights[size_t(m) * R + r];
        if (w == 0.0f && !a.all_terms) {
            out[1 + r] = nanf("");
            continue;
        }
        const bool none_labelled = a.regs[r].n_affinities > 0 && a.affinity_sums[size_t(m) * R + r] == 0.0f;
        const float L = none_labelled ? 0.0f : sums[1 + r];
        out[1 + r] = L;
        total += w * L;
    }
    out[1 + R] = total;
    if (a.log) {
        float* row = a.log + (size_t(model) * a.log_steps + a.log_row) * (R + 2);
        for (int k = 0; k < R + 2; ++k) row[k] = out[k];
    }
    if (n_bad != 0.0f || !finite(total)) a.stopped[2 * model] = a.step, a.stopped[2 * model + 1] = n_bad != 0.0f ? 1 : 0;
}

__global__ void adam_kernel(const ScheduleView s, int step, const int* stopped, float* params, const float* grad,
                            float* exp_avg, float* exp_avg_sq, size_t P, int first) {
    const int m = blockIdx.y;
    if (stopped[2 * (first + m)] >= 0) return;
    const float* row = schedule_row(s, first + m, step);
    const float step_size = row[1], bc2_sqrt = row[2];
    const size_t base = size_t(m) * P;
    SCA_FOR_EACH(p, P) adam_element(params[base + p], grad[base + p], exp_avg[base + p], exp_avg_sq[base + p], step_size, bc2_sqrt);
}

}  // namespace

void launch_step_weights(const ScheduleView& s, int first, int count, int step, float* weights) {
    if (s.n_regs == 0) return;
    SCA_LAUNCH(step_weights_kernel, grid_for(size_t(count) * s.n_regs, 1), kThreads, 0)(s, first, count, step, weights);
    SCA_CUDA_CHECK_LAUNCH("step_weights_kernel");
}

void launch_draw(const float* points, int n_points, int D, const float* probabilities, int L, const uint64_t* seeds,
                 int first, int count, int step, int B, float* x, float* labels, int* points_out) {
    SCA_LAUNCH(draw_kernel, grid_for(size_t(B), count), kThreads, 0)(points, n_points, D, probabilities, L, seeds, first,
                                                                      step, B, x, labels, points_out);
    SCA_CUDA_CHECK_LAUNCH("draw_kernel");
}

void launch_bias_activation(float* y, const float* params, size_t P, size_t bias_offset, int width, int B, int count,
                            bool gelu, float* deriv) {
    SCA_LAUNCH(bias_activation_kernel, grid_for(size_t(B) * width, count), kThreads, 0)(y, params, P, bias_offset, width,
                                                                                         B, gelu ? 1 : 0, deriv);
    SCA_CUDA_CHECK_LAUNCH("bias_activation_kernel");
}

void launch_normalize(const float* h, int K, int B, int count, float* z, float* inv) {
    SCA_LAUNCH(normalize_kernel, grid_for(size_t(B), count), kThreads, 0)(h, K, B, z, inv);
    SCA_CUDA_CHECK_LAUNCH("normalize_kernel");
}

void launch_recon_and_affinities(const float* y, const float* x, int D, const float* labels, int L,
                                 const WideRegularizer* regs, int R, int B, int count, float* sq, size_t sq_stride,
                                 float* dyhat, size_t dyhat_stride, float* affinity) {
    SCA_LAUNCH(recon_affinity_kernel, grid_for(size_t(B), count), kThreads, 0)(y, x, D, labels, L, regs, R, B, sq,
                                                                                sq_stride, dyhat, dyhat_stride, affinity);
    SCA_CUDA_CHECK_LAUNCH("recon_affinity_kernel");
}

void launch_row_sums(const float* in, int rows, int B, int count, float* out) {
    if (rows == 0) return;
    SCA_LAUNCH(row_sums_kernel, dim3(unsigned(rows), unsigned(count)), kThreads, 0)(in, rows, B, out);
    SCA_CUDA_CHECK_LAUNCH("row_sums_kernel");
}

void launch_sample_terms(const float* z, const float* h, int K, const WideRegularizer* regs, int R,
                         const float* affinity_sums, const float* affinity, const float* weights, int B, int count,
                         float* omega, float* terms, float* dz, float* dh) {
    SCA_LAUNCH(sample_terms_kernel, grid_for(size_t(B), count), kThreads, 0)(z, h, K, regs, R, affinity_sums, affinity,
                                                                              weights, B, omega, terms, dz, dh);
    SCA_CUDA_CHECK_LAUNCH("sample_terms_kernel");
}

void launch_normalize_backward(const float* h, const float* z, const float* inv, const float* dz, const float* dh,
                               int K, int B, int count, float* g, size_t g_stride) {
    SCA_LAUNCH(normalize_backward_kernel, grid_for(size_t(B), count), kThreads, 0)(h, z, inv, dz, dh, K, B, g, g_stride);
    SCA_CUDA_CHECK_LAUNCH("normalize_backward_kernel");
}

void launch_gelu_backward(float* dy, size_t dy_stride, const float* deriv, int width, int B, int count) {
    SCA_LAUNCH(gelu_backward_kernel, grid_for(size_t(B) * width, count), kThreads, 0)(dy, dy_stride, deriv, width, B);
    SCA_CUDA_CHECK_LAUNCH("gelu_backward_kernel");
}

int nonfinite_partial_count(size_t P) { return int(grid_for(P, 1).x); }

void launch_nonfinite_count(const float* grad, size_t P, int count, float* partial) {
    SCA_LAUNCH(nonfinite_count_kernel, grid_for(P, count), kThreads, 0)(grad, P, partial);
    SCA_CUDA_CHECK_LAUNCH("nonfinite_count_kernel");
}

void launch_finish(const FinishArgs& a, int first, int count) {
    SCA_LAUNCH(finish_kernel, unsigned(count), 1, 0)(a, first);
    SCA_CUDA_CHECK_LAUNCH("finish_kernel");
}

void launch_adam(const ScheduleView& s, int step, const int* stopped, float* params, const float* grad, float* exp_avg,
                 float* exp_avg_sq, size_t P, int first, int count) {
    SCA_LAUNCH(adam_kernel, grid_for(P, count), kThreads, 0)(s, step, stopped, params, grad, exp_avg, exp_avg_sq, P, first);
    SCA_CUDA_CHECK_LAUNCH("adam_kernel");
}

}  // namespace sca::cuda
