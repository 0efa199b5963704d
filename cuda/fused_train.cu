// The fused trainer: one thread block per model runs whole training steps
// (draw the batch, forward, every loss term, backward, Adam) with weights,
// Adam moments and activations in shared memory for the whole train() call.
// One launch per train() call, whatever the number of steps or models; no
// float atomics: every reduction has a fixed order, so a model's result does
// not depend on how many other models share the launch.
#include <cub/block/block_reduce.cuh>

#include <cmath>
#include <cstring>
#include <string>

#include "cuda/cuda_check.hpp"
#include "cuda/device_seam.hpp"
#include "cuda/fused_model.hpp"
#include "kernels/data_stream.hpp"
#include "kernels/gelu.hpp"

namespace sca::cuda {

namespace {

using BlockReduce = cub::BlockReduce<float, kFusedThreads>;

struct BlockScratch {
    typename BlockReduce::TempStorage reduce;
    float broadcast;
};

// Deterministic block-wide sum (CUB's fixed reduction tree), returned to every thread.
__device__ float block_sum(float v, BlockScratch& s) {
    const float total = BlockReduce(s.reduce).Sum(v);
    if (threadIdx.x == 0) s.broadcast = total;
    __syncthreads();
    const float out = s.broadcast;
    __syncthreads();
    return out;
}

// x - x is 0 for every finite x and NaN for inf and NaN (the CPU's test too).
__device__ inline bool finite(float x) { return x - x == 0.0f; }

__device__ void draw_batch(const FusedModel& M, float* s, uint64_t seed, int step, const float* grid,
                           const float* probabilities, int* points_out) {
    const int B = M.batch, ld = M.ld, D = M.input_dim;
    float* x = s + M.linear[0].input;
    float* labels = s + M.s_labels;
    for (int i = threadIdx.x; i < B; i += blockDim.x) {
        const uint32_t p = batch_point(seed, uint32_t(step), uint32_t(i), uint32_t(M.n_points));
        if (points_out) points_out[i] = int(p);
        for (int c = 0; c < D; ++c) x[c * ld + i] = grid[size_t(p) * D + c];
        for (int l = 0; l < M.n_labels; ++l) {
            const float prob = probabilities[size_t(l) * M.n_points + p];
            labels[l * ld + i] =
                prob > 0.0f && label_uniform(seed, uint32_t(step), uint32_t(i), uint32_t(l)) < prob ? 1.0f : 0.0f;
        }
    }
    __syncthreads();
}

__device__ void forward(const FusedModel& M, float* s) {
    const int B = M.batch, ld = M.ld;
    const float* params = s + M.s_params;
    for (int l = 0; l < M.n_linear; ++l) {
        const FusedLinear& L = M.linear[l];
        const float* W = params + L.weight;
        const float* bias = params + L.bias;
        const float* x = s + L.input;
        float* y = s + L.output;
        for (int idx = threadIdx.x; idx < L.out * B; idx += blockDim.x) {
            const int o = idx / B, b = idx - o * B;
            float a = bias[o];
            for (int i = 0; i < L.in; ++i) a += W[o * L.in + i] * x[i * ld + b];
            if (L.gelu_after) {
                gelu_erfc(a, y[o * ld + b], s[L.deriv + o * ld + b]);  // the CPU's form: accurate in the negative tail
            } else {
                y[o * ld + b] = a;
            }
        }
        __syncthreads();
        if (l == M.n_encoder - 1) {  // z = h / max(|h|, floor)
            const int K = M.latent;
            float* z = s + M.linear[l + 1].input;
            for (int i = threadIdx.x; i < B; i += blockDim.x) {
                float r2 = 0.0f;
                for (int k = 0; k < K; ++k) r2 += y[k * ld + i] * y[k * ld + i];
                const float inv = 1.0f / fmaxf(sqrtf(r2), kNormFloor);
                s[M.s_inv + i] = inv;
                for (int k = 0; k < K; ++k) z[k * ld + i] = y[k * ld + i] * inv;
            }
            __syncthreads();
        }
    }
}

// Separation term for the current z (unit vectors already in s_u): returns
// sum_i omega_i l_i and adds the gradient of w * that to dz. Each row i is
// shared by kSeparationLanes adjacent threads, combined by shuffles in a fixed order.
__device__ float separation(const FusedModel& M, float* s, const RegParamsUpTo<kFusedMaxLatent>& p, float w, BlockScratch& scratch) {
    const int B = M.batch, K = M.latent, ld = M.ld;
    const float* u = s + M.s_u;
    const float* omega = s + M.s_omega;
    const float* z = s + M.linear[M.n_encoder].input;
    float* dz = s + M.s_dz;
    const int rows_per_pass = blockDim.x / kSeparationLanes;
    const int sub = threadIdx.x % kSeparationLanes;
    float part = 0.0f;
    for (int base = 0; base < B; base += rows_per_pass) {
        const int i = base + threadIdx.x / kSeparationLanes;
        const bool valid = i < B;
        float l = 0.0f, du[kFusedMaxLatent];
        for (int k = 0; k < K; ++k) du[k] = 0.0f;
        if (valid) {
            const float* ui = u + i * K;
            const float wi = omega[i];
            for (int j = sub; j < B; j += kSeparationLanes) {
                if (j == i) continue;  // no self pair, as on the CPU
                const float* uj = u + j * K;
                const float c = dot(ui, uj, K);
                float dfdc;
                l += separation_pair(c, p.power, p.shift, &dfdc);
                if (dfdc != 0.0f) {
                    const float g = w * dfdc * (wi + omega[j]);
                    for (int k = 0; k < K; ++k) du[k] += g * uj[k];
                }
            }
        }
        for (int off = 1; off < kSeparationLanes; off <<= 1) {
            l += __shfl_xor_sync(0xffffffffu, l, off);
            for (int k = 0; k < K; ++k) du[k] += __shfl_xor_sync(0xffffffffu, du[k], off);
        }
        if (valid && sub == 0) {
            part += omega[i] * l;
            float zi[kFusedMaxLatent], dzi[kFusedMaxLatent];
            for (int k = 0; k < K; ++k) zi[k] = z[k * ld + i], dzi[k] = dz[k * ld + i];
            unit_vector_backward(zi, K, du, dzi);
            for (int k = 0; k < K; ++k) dz[k * ld + i] = dzi[k];
        }
    }
    return block_sum(part, scratch);
}

// Reconstruction MSE and every regularizer (weights[r] == 0 skips r unless
// all_terms); leaves dL/dyhat in s_ga and the regularizers' dL/dz, dL/dh in
// s_dz, s_dh. reg[r] = NaN where skipped. Returns true if any dh was written.
__device__ bool loss(const FusedModel& M, float* s, const float* weights, bool all_terms, float* recon_out,
                     float* reg, float* total_out, BlockScratch& scratch) {
    const int B = M.batch, K = M.latent, D = M.input_dim, ld = M.ld;
    const float* x = s + M.linear[0].input;
    const float* y = s + M.linear[M.n_linear - 1].output;
    const float* z = s + M.linear[M.n_encoder].input;
    const float* h = s + M.s_h;
    float* dyhat = s + M.s_ga;
    float* dz = s + M.s_dz;
    float* dh = s + M.s_dh;
    float* omega = s + M.s_omega;
    const float* labels = s + M.s_labels;
    const float scale = 1.0f / float(B * D);
    float part = 0.0f;
    for (int idx = threadIdx.x; idx < D * B; idx += blockDim.x) {
        const int c = idx / B, b = idx - c * B;
        const float d = y[c * ld + b] - x[c * ld + b];
        part += d * d;
        dyhat[c * ld + b] = 2.0f * d * scale;
    }
    for (int idx = threadIdx.x; idx < K * B; idx += blockDim.x) {
        const int k = idx / B, b = idx - k * B;
        dz[k * ld + b] = 0.0f;
        dh[k * ld + b] = 0.0f;
    }
    const float recon = block_sum(part, scratch) * scale;  // its barriers also publish dz, dh
    float total = recon;
    bool units_ready = false, any_dh = false;
    for (int r = 0; r < M.n_regs; ++r) {
        const FusedRegularizer& R = M.regs[r];
        const float w = weights[r];
        if (w == 0.0f && !all_terms) {
            reg[r] = nanf("");
            continue;
        }
        // Reduction weights omega_i (docs/method.md §2).
        if (R.n_affinities == 0) {
            for (int i = threadIdx.x; i < B; i += blockDim.x) omega[i] = 1.0f / float(B);
            __syncthreads();
        } else {
            float asum = 0.0f;
            for (int i = threadIdx.x; i < B; i += blockDim.x) {
                float a = 0.0f;
                for (int q = 0; q < R.n_affinities; ++q) a += labels[R.label[q] * ld + i] * R.factor[q];
                a = a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
                omega[i] = a;
                asum += a;
            }
            const float sum = block_sum(asum, scratch);
            if (sum == 0.0f) {  // no labelled sample: L_r = 0, no gradient
                reg[r] = 0.0f;
                continue;
            }
            const float inv = 1.0f / (sum + kLabelEps);
            for (int i = threadIdx.x; i < B; i += blockDim.x) omega[i] *= inv;
            __syncthreads();
        }
        float L;
        if (R.params.kind == RegKind::Separate) {
            if (!units_ready) {
                for (int i = threadIdx.x; i < B; i += blockDim.x) {
                    float zi[kFusedMaxLatent];
                    for (int k = 0; k < K; ++k) zi[k] = z[k * ld + i];
                    unit_vector(zi, K, s + M.s_u + i * K);
                }
                __syncthreads();
                units_ready = true;
            }
            L = separation(M, s, R.params, w, scratch);
        } else {
            float lsum = 0.0f;
            for (int i = threadIdx.x; i < B; i += blockDim.x) {
                const float oi = omega[i];
                if (oi == 0.0f) continue;
                float zi[kFusedMaxLatent], hi[kFusedMaxLatent], dzi[kFusedMaxLatent], dhi[kFusedMaxLatent];
                for (int k = 0; k < K; ++k)
                    zi[k] = z[k * ld + i], hi[k] = h[k * ld + i], dzi[k] = dz[k * ld + i], dhi[k] = dh[k * ld + i];
                lsum += oi * sample_term(R.params, zi, hi, K, w * oi, dzi, dhi);
                for (int k = 0; k < K; ++k) dz[k * ld + i] = dzi[k], dh[k * ld + i] = dhi[k];
            }
            L = block_sum(lsum, scratch);
            any_dh = any_dh || R.params.kind == RegKind::Unitarity;
        }
        reg[r] = L;
        total += w * L;
    }
    *recon_out = recon;
    *total_out = total;
    return any_dh;
}

// dy (in s + dy_off) holds dL/d(layer output); writes the layer's parameter
// gradients and, unless it is the first layer, dL/d(input) into s + dx_off.
__device__ void linear_backward(const FusedModel& M, float* s, int l, int dy_off, int dx_off) {
    const FusedLinear& L = M.linear[l];
    const int B = M.batch, ld = M.ld;
    float* dy = s + dy_off;
    if (L.gelu_after) {
        const float* d = s + L.deriv;
        for (int idx = threadIdx.x; idx < L.out * B; idx += blockDim.x) {
            const int o = idx / B, b = idx - o * B;
            dy[o * ld + b] *= d[o * ld + b];
        }
        __syncthreads();
    }
    const float* W = s + M.s_params + L.weight;
    float* grad = s + M.s_grad;
    const float* x = s + L.input;
    const int n_weight = L.out * L.in, n_grad = n_weight + L.out;
    const int n_dx = l == 0 ? 0 : L.in * B;
    for (int idx = threadIdx.x; idx < n_grad + n_dx; idx += blockDim.x) {
        if (idx < n_weight) {
            const int o = idx / L.in, i = idx - o * L.in;
            float acc = 0.0f;
            for (int b = 0; b < B; ++b) acc += dy[o * ld + b] * x[i * ld + b];
            grad[L.weight + idx] = acc;
        } else if (idx < n_grad) {
            const int o = idx - n_weight;
            float acc = 0.0f;
            for (int b = 0; b < B; ++b) acc += dy[o * ld + b];
            grad[L.bias + o] = acc;
        } else {
            const int e = idx - n_grad, i = e / B, b = e - i * B;
            float acc = 0.0f;
            for (int o = 0; o < L.out; ++o) acc += W[o * L.in + i] * dy[o * ld + b];
            s[dx_off + i * ld + b] = acc;
        }
    }
    __syncthreads();
}

__device__ void backward(const FusedModel& M, float* s, bool any_dh) {
    const int B = M.batch, K = M.latent, ld = M.ld;
    int cur = M.s_ga, other = M.s_gb;
    for (int l = M.n_linear - 1; l >= M.n_encoder; --l) {
        linear_backward(M, s, l, cur, other);
        const int t = cur;
        cur = other;
        other = t;
    }
    // cur: dL/dz from the decoder; add the regularizers' and go through the normalization.
    {
        float* g = s + cur;
        const float* z = s + M.linear[M.n_encoder].input;
        const float* h = s + M.s_h;
        const float* dz = s + M.s_dz;
        const float* dh = s + M.s_dh;
        for (int i = threadIdx.x; i < B; i += blockDim.x) {
            float r2 = 0.0f, zdz = 0.0f;
            for (int k = 0; k < K; ++k) {
                g[k * ld + i] += dz[k * ld + i];
                r2 += h[k * ld + i] * h[k * ld + i];
                zdz += z[k * ld + i] * g[k * ld + i];
            }
            const bool clamped = sqrtf(r2) <= kNormFloor;
            const float inv = s[M.s_inv + i];
            for (int k = 0; k < K; ++k) {
                float gk = g[k * ld + i];
                gk = clamped ? gk * inv : (gk - z[k * ld + i] * zdz) * inv;
                if (any_dh) gk += dh[k * ld + i];
                g[k * ld + i] = gk;
            }
        }
        __syncthreads();
    }
    for (int l = M.n_encoder - 1; l >= 0; --l) {
        linear_backward(M, s, l, cur, other);
        const int t = cur;
        cur = other;
        other = t;
    }
}

// torch.optim.Adam; step_size = lr / (1 - beta1^t) and sqrt(1 - beta2^t) come
// precomputed from the host exactly as host/train/adam.hpp computes them.
__device__ void adam(const FusedModel& M, float* s, float step_size, float bc2_sqrt) {
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float* p = s + M.s_params;
    const float* g = s + M.s_grad;
    float* m = s + M.s_m;
    float* v = s + M.s_v;
    for (int i = threadIdx.x; i < M.n_params; i += blockDim.x) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * m[i] / denom;
    }
    __syncthreads();
}

struct TrainArgs {
    const float* grid;
    const float* probabilities;
    const uint64_t* seeds;
    const float* schedules;  // [n_schedules][rows][stride]
    const int* schedule_of;  // [M]
    int rows;
    float* params;  // [M][P]
    float* exp_avg;
    float* exp_avg_sq;
    float* log;  // [M][steps][log_stride] or null
    int* stopped;  // [M][2]: the non-finite step a model stopped at (-1: none), and 1 if its gradient was not finite
    int first, last;
};

__global__ void __launch_bounds__(kFusedThreads) train_kernel(const FusedModel M, const TrainArgs a) {
    SCA_DYNAMIC_SHARED(float, s);
    __shared__ BlockScratch scratch;
    const int model = blockIdx.x;
    if (a.stopped[2 * model] >= 0) return;  // stopped at a non-finite step: trains no further until reloaded
    const int P = M.n_params;
    const size_t pbase = size_t(model) * P;
    for (int i = threadIdx.x; i < P; i += blockDim.x) {
        s[M.s_params + i] = a.params[pbase + i];
        s[M.s_m + i] = a.exp_avg[pbase + i];
        s[M.s_v + i] = a.exp_avg_sq[pbase + i];
    }
    __syncthreads();
    const uint64_t seed = a.seeds[model];
    const float* table = a.schedules + size_t(a.schedule_of[model]) * a.rows * M.schedule_stride();
    const int log_stride = M.log_stride();
    float reg[kFusedMaxRegs];
    for (int t = a.first; t <= a.last; ++t) {
        const float* row = table + size_t(t) * M.schedule_stride();
        draw_batch(M, s, seed, t, a.grid, a.probabilities, nullptr);
        forward(M, s);
        float recon, total;
        const bool any_dh = loss(M, s, row + 3, false, &recon, reg, &total, scratch);
        backward(M, s, any_dh);
        // A non-finite loss or gradient stops this model before the update, as
        // the CPU backend does; its state stays that of the last good step.
        float bad = 0.0f;
        for (int i = threadIdx.x; i < P; i += blockDim.x) bad += finite(s[M.s_grad + i]) ? 0.0f : 1.0f;
        const bool bad_gradient = block_sum(bad, scratch) != 0.0f;  // the same on every thread, as is total
        if (a.log && threadIdx.x == 0) {
            float* out = a.log + (size_t(model) * (a.last - a.first + 1) + (t - a.first)) * log_stride;
            out[0] = recon;
            for (int r = 0; r < M.n_regs; ++r) out[1 + r] = reg[r];
            out[1 + M.n_regs] = total;
        }
        if (bad_gradient || !finite(total)) {
            if (threadIdx.x == 0) a.stopped[2 * model] = t, a.stopped[2 * model + 1] = bad_gradient ? 1 : 0;
            break;
        }
        adam(M, s, row[1], row[2]);
    }
    for (int i = threadIdx.x; i < P; i += blockDim.x) {
        a.params[pbase + i] = s[M.s_params + i];
        a.exp_avg[pbase + i] = s[M.s_m + i];
        a.exp_avg_sq[pbase + i] = s[M.s_v + i];
    }
}

struct EvaluateArgs {
    const float* grid;
    const float* probabilities;
    uint64_t seed;
    int step;
    const float* params;   // [P]
    const float* x;        // [D][B] or null: draw step's batch
    const float* labels;   // [L][B]
    const float* weights;  // [R]
    int all_terms;
    float* out_losses;  // recon, reg..., total
    float* out_grad;    // [P]
    float* out_x;       // [D][B]
    float* out_labels;  // [L][B]
    int* out_points;    // [B]
};

__global__ void __launch_bounds__(kFusedThreads) evaluate_kernel(const FusedModel M, const EvaluateArgs a) {
    SCA_DYNAMIC_SHARED(float, s);
    __shared__ BlockScratch scratch;
    const int B = M.batch, ld = M.ld;
    for (int i = threadIdx.x; i < M.n_params; i += blockDim.x) s[M.s_params + i] = a.params[i];
    if (a.x) {
        for (int idx = threadIdx.x; idx < M.input_dim * B; idx += blockDim.x)
            s[M.linear[0].input + (idx / B) * ld + idx % B] = a.x[idx];
        for (int idx = threadIdx.x; idx < M.n_labels * B; idx += blockDim.x)
            s[M.s_labels + (idx / B) * ld + idx % B] = a.labels[idx];
        __syncthreads();
    } else {
        __syncthreads();
        draw_batch(M, s, a.seed, a.step, a.grid, a.probabilities, a.out_points);
    }
    for (int idx = threadIdx.x; idx < M.input_dim * B; idx += blockDim.x)
        a.out_x[idx] = s[M.linear[0].input + (idx / B) * ld + idx % B];
    for (int idx = threadIdx.x; idx < M.n_labels * B; idx += blockDim.x)
        a.out_labels[idx] = s[M.s_labels + (idx / B) * ld + idx % B];
    forward(M, s);
    float reg[kFusedMaxRegs], recon, total;
    const bool any_dh = loss(M, s, a.weights, a.all_terms != 0, &recon, reg, &total, scratch);
    backward(M, s, any_dh);
    for (int i = threadIdx.x; i < M.n_params; i += blockDim.x) a.out_grad[i] = s[M.s_grad + i];
    if (threadIdx.x == 0) {
        a.out_losses[0] = recon;
        for (int r = 0; r < M.n_regs; ++r) a.out_losses[1 + r] = reg[r];
        a.out_losses[1 + M.n_regs] = total;
    }
}

// Per launch: the limit belongs to the kernel, not to a trainer, and another
// trainer of a smaller shape may have lowered it since.
void set_smem_limit(const void* kernel, size_t bytes) {
    SCA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

}  // namespace

size_t layout_fused_model(FusedModel& m) {
    const int ld = m.batch % 2 == 0 ? m.batch + 1 : m.batch;
    m.ld = ld;
    int off = 0;
    auto take = [&](int n) {
        const int at = off;
        off += n;
        return at;
    };
    const int P = m.n_params;
    m.s_params = take(P);
    m.s_grad = take(P);
    m.s_m = take(P);
    m.s_v = take(P);
    int width = m.input_dim;
    for (int l = 0; l < m.n_linear; ++l) {
        FusedLinear& L = m.linear[l];
        L.input = take(L.in * ld);
        width = L.in > width ? L.in : width;
        width = L.out > width ? L.out : width;
        L.deriv = L.gelu_after ? take(L.out * ld) : -1;
    }
    for (int l = 0; l + 1 < m.n_linear; ++l) m.linear[l].output = m.linear[l + 1].input;
    m.s_h = take(m.latent * ld);
    m.linear[m.n_encoder - 1].output = m.s_h;
    m.linear[m.n_linear - 1].output = take(m.input_dim * ld);
    m.s_ga = take(width * ld);
    m.s_gb = take(width * ld);
    m.s_labels = take((m.n_labels > 0 ? m.n_labels : 1) * ld);
    m.s_inv = take(ld);
    m.s_dz = take(m.latent * ld);
    m.s_dh = take(m.latent * ld);
    m.s_u = take(m.batch * m.latent);
    m.s_omega = take(ld);
    m.s_misc = take(32);
    m.smem_floats = off;
    return size_t(off) * sizeof(float);
}

std::string fused_shared_memory_refusal(FusedModel m) {
    const size_t bytes = layout_fused_model(m);
    int device = 0, optin = 0;
    SCA_CUDA_CHECK(cudaGetDevice(&device));
    SCA_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const size_t static_bytes = sizeof(BlockScratch);
    if (bytes + static_bytes <= size_t(optin)) return "";
    return "the fused CUDA trainer keeps a model in one block's shared memory: this shape and batch need " +
           std::to_string(bytes / 1024) + " KiB, the device allows " + std::to_string(optin / 1024) + " KiB";
}

DeviceFootprint device_footprint(const FusedModel& m, int rows, int log_steps) {
    DeviceFootprint f;
    f.shared = size_t(m.n_points) * (m.input_dim + (m.n_labels > 0 ? m.n_labels : 1)) * sizeof(float);
    f.per_model = 3 * size_t(m.n_params) * sizeof(float) + sizeof(uint64_t) + sizeof(int) +
                  size_t(rows) * m.schedule_stride() * sizeof(float) + size_t(log_steps) * m.log_stride() * sizeof(float);
    return f;
}

void require_device_memory(const DeviceFootprint& need, int n_models) {
    const auto [free, total] = device_memory();
    if (need.bytes(n_models) > free)
        throw DeviceMemoryError(std::to_string(n_models) + " models of this shape need " + mib(need.bytes(n_models)) +
                                " of device memory, " + mib(free) + " of " + mib(total) + " are free: at most " +
                                std::to_string(need.models_within(free)) +
                                " fit in one launch (sca sweep --gpu-group N sets the group size)");
}

DeviceTrainer::DeviceTrainer(const FusedModel& model, int n_models, const std::vector<float>& grid,
                             const std::vector<float>& probabilities, const std::vector<uint64_t>& seeds,
                             const std::vector<float>& schedules, int rows, const std::vector<int>& schedule_of)
    : DeviceModelStates(n_models, size_t(model.n_params)), model_(model), rows_(rows) {
    smem_bytes_ = layout_fused_model(model_);
    const std::string refusal = fused_shared_memory_refusal(model_);
    if (!refusal.empty()) throw CudaError(refusal);
    // Say what fits before allocating anything (a whole run's log counted).
    require_device_memory(device_footprint(model_, rows, rows), n_models);
    grid_ = DeviceBuffer<float>(grid, "the colour grid");
    upload_inputs(probabilities, seeds, schedules, schedule_of);
    allocate_states();
}

void DeviceTrainer::get_params_all(float* params) const {
    SCA_CUDA_CHECK(cudaMemcpy(params, params_.get(), size_t(n_models_) * model_.n_params * sizeof(float),
                              cudaMemcpyDeviceToHost));
}

void DeviceTrainer::train(int first, int last, float* log) {
    if (first > last) return;
    if (first < 0 || last >= rows_)
        throw CudaError("train: steps " + std::to_string(first) + ".." + std::to_string(last) +
                        " are outside the schedule (0.." + std::to_string(rows_ - 1) + ")");
    const size_t log_n = size_t(n_models_) * (last - first + 1) * model_.log_stride();
    if (log && log_n > log_.size()) {
        log_ = DeviceBuffer<float>();  // free the smaller log first
        log_ = DeviceBuffer<float>(log_n, "the training log");
    }
    TrainArgs a{grid_.get(),   probabilities_.get(), seeds_.get(),      schedules_.get(),
                schedule_of_.get(), rows_,           params_.get(),     exp_avg_.get(),
                exp_avg_sq_.get(),  log ? log_.get() : nullptr, stopped_.get(), first, last};
    set_smem_limit(reinterpret_cast<const void*>(&train_kernel), smem_bytes_);
    SCA_LAUNCH(train_kernel, n_models_, kFusedThreads, smem_bytes_)(model_, a);
    SCA_CUDA_CHECK_LAUNCH("train_kernel launch");
    SCA_CUDA_CHECK(cudaDeviceSynchronize());
    stopped_host_ = stopped_.download();
    if (log) SCA_CUDA_CHECK(cudaMemcpy(log, log_.get(), log_n * sizeof(float), cudaMemcpyDeviceToHost));
}

DeviceEvaluation DeviceTrainer::evaluate(int m, int step, const float* x, const float* labels,
                                         const std::vector<float>& weights, bool all_terms) const {
    const int B = model_.batch, D = model_.input_dim, L = model_.n_labels, R = model_.n_regs, P = model_.n_params;
    uint64_t seed = 0;
    SCA_CUDA_CHECK(cudaMemcpy(&seed, seeds_.get() + m, sizeof(uint64_t), cudaMemcpyDeviceToHost));
    DeviceBuffer<float> d_x, d_labels;
    if (x) d_x = DeviceBuffer<float>(std::vector<float>(x, x + size_t(D) * B), "an evaluation batch");
    if (x && L) d_labels = DeviceBuffer<float>(std::vector<float>(labels, labels + size_t(L) * B), "batch labels");
    const DeviceBuffer<float> d_weights(weights.empty() ? std::vector<float>{0.0f} : weights, "term weights");
    const DeviceBuffer<float> d_losses(size_t(R) + 2, "losses"), d_grad(size_t(P), "a gradient"),
        d_out_x(size_t(D) * B, "the batch used"), d_out_labels(size_t(L > 0 ? L : 1) * B, "its labels");
    const DeviceBuffer<int> d_points(size_t(B), "the batch's grid points");
    SCA_CUDA_CHECK(cudaMemset(d_points.get(), 0xff, B * sizeof(int)));
    EvaluateArgs a{grid_.get(), probabilities_.get(), seed, step, params_.get() + size_t(m) * P, d_x.get(),
                   d_labels.get(), d_weights.get(), all_terms ? 1 : 0, d_losses.get(), d_grad.get(), d_out_x.get(),
                   d_out_labels.get(), d_points.get()};
    set_smem_limit(reinterpret_cast<const void*>(&evaluate_kernel), smem_bytes_);
    SCA_LAUNCH(evaluate_kernel, 1, kFusedThreads, smem_bytes_)(model_, a);
    SCA_CUDA_CHECK_LAUNCH("evaluate_kernel launch");
    SCA_CUDA_CHECK(cudaDeviceSynchronize());
    DeviceEvaluation out;
    const std::vector<float> losses = d_losses.download();
    out.grad = d_grad.download();
    out.x = d_out_x.download();
    out.labels = d_out_labels.download();
    out.labels.resize(size_t(L) * B);
    out.points = d_points.download();
    out.recon = losses[0];
    out.reg.assign(losses.begin() + 1, losses.begin() + 1 + R);
    out.total = losses[1 + R];
    return out;
}

std::string device_unavailable_reason() {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free error so later calls start clean
        return std::string("no usable CUDA driver or device (") + cudaGetErrorString(err) + ")";
    }
    if (count == 0) return "no CUDA device is present";
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cannot query CUDA device 0";
    // Whether this build's kernel images (SCA_CUDA_ARCH) load on the device:
    // the runtime knows, the compute capability alone does not.
    cudaFuncAttributes attr{};
    const cudaError_t load = cudaFuncGetAttributes(&attr, reinterpret_cast<const void*>(&train_kernel));
    if (load != cudaSuccess) {
        cudaGetLastError();
        const std::string sm = std::to_string(prop.major) + std::to_string(prop.minor);
        return std::string("CUDA device 0 (") + prop.name + ", sm_" + sm + ") cannot run this build's kernels (" +
               cudaGetErrorString(load) + "); rebuild with -DSCA_CUDA_ARCH=" + sm;
    }
    return "";
}

std::string device_description() {
    if (!device_unavailable_reason().empty()) return "";
    cudaDeviceProp prop{};
    int driver = 0, runtime = 0;
    SCA_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    SCA_CUDA_CHECK(cudaDriverGetVersion(&driver));
    SCA_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    return std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
           std::to_string(prop.multiProcessorCount) + " SMs, driver API " + std::to_string(driver / 1000) + "." +
           std::to_string((driver % 1000) / 10) + ", runtime " + std::to_string(runtime / 1000) + "." +
           std::to_string((runtime % 1000) / 10);
}

}  // namespace sca::cuda
