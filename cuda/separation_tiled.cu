// Tiled separation term (see separation_tiled.hpp). One thread per row keeps
// u_i, l_i and du_i in registers; columns stream through shared memory in
// tiles of kTileCols. The column range is split over gridDim.y blocks whose
// partial rows are summed in split order afterwards.
#include <cub/block/block_reduce.cuh>

#include <cmath>

#include "cuda/cuda_check.hpp"
#include "cuda/device_seam.hpp"
#include "cuda/separation_tiled.hpp"
#include "kernels/regularizers.hpp"

namespace sca::cuda {

namespace {

constexpr int kTileRows = 128;  // threads per block, one row each
constexpr int kTileCols = 128;  // columns per shared-memory tile for K <= kNarrowLatent
// Latents up to kNarrowLatent (the paper's) keep row i in a 32-float array;
// wider ones (up to kMaxLatent) stream narrower tiles so that one tile still
// fits the 48 KiB of static shared memory.
constexpr int kNarrowLatent = 32;
constexpr int kWideTileCols = 32;
static_assert(kWideTileCols * kMaxLatent * sizeof(float) <= 48 * 1024, "a wide tile must fit static shared memory");
constexpr int kReduceThreads = 256;

__global__ void unit_vectors_kernel(const float* z, int B, int K, float* u) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < B) unit_vector(z + size_t(i) * K, K, u + size_t(i) * K);
}

// partial[s][i][0] = sum over this split's columns j of m_ij c'^p, partial[s][i][1+k] = du_ik.
// KT > 0: K is KT; else K is a.latent, at most KMAX. TILE: columns per tile.
template <int KT, int KMAX, int TILE>
__global__ void __launch_bounds__(kTileRows)
    separation_tile_kernel(const SeparationArrays a, int cols_per_split) {
    const int B = a.batch, K_runtime = a.latent, power = a.power;
    const bool shift = a.shift;
    const int q = blockIdx.z;  // the problem
    const float* u = a.u + size_t(q) * B * K_runtime;
    const float* omega = a.omega + q * a.omega_stride;
    const float w = a.weights ? a.weights[q * a.weight_stride] : a.weight;
    float* partial = a.partial + size_t(q) * gridDim.y * B * (K_runtime + 1);
    const int K = KT > 0 ? KT : K_runtime;
    __shared__ float tile_u[TILE * KMAX];
    __shared__ float tile_omega[TILE];
    const int i = blockIdx.x * kTileRows + threadIdx.x;
    const bool valid = i < B;
    float ui[KMAX], du[KMAX];
    for (int k = 0; k < K; ++k) {
        ui[k] = valid ? u[size_t(i) * K + k] : 0.0f;
        du[k] = 0.0f;
    }
    const float wi = valid ? omega[i] : 0.0f;
    float l = 0.0f;
    const int j_begin = blockIdx.y * cols_per_split;
    const int j_end = min(B, j_begin + cols_per_split);
    for (int j0 = j_begin; j0 < j_end; j0 += TILE) {
        const int n = min(TILE, j_end - j0);
        __syncthreads();
        for (int e = threadIdx.x; e < n * K; e += blockDim.x) tile_u[e] = u[size_t(j0) * K + e];
        for (int e = threadIdx.x; e < n; e += blockDim.x) tile_omega[e] = omega[j0 + e];
        __syncthreads();
        if (!valid) continue;
        for (int jj = 0; jj < n; ++jj) {
            if (j0 + jj == i) continue;  // no self pair, as on the CPU
            const float* uj = tile_u + jj * K;
            float c = 0.0f;
#pragma unroll
            for (int k = 0; k < KMAX; ++k)
                if (KT > 0 || k < K) c += ui[k] * uj[k];
            float dfdc;
            l += separation_pair(c, power, shift, &dfdc);
            if (dfdc != 0.0f) {
                const float g = w * dfdc * (wi + tile_omega[jj]);
#pragma unroll
                for (int k = 0; k < KMAX; ++k)
                    if (KT > 0 || k < K) du[k] += g * uj[k];
            }
        }
    }
    if (valid) {
        float* out = partial + (size_t(blockIdx.y) * B + i) * (K + 1);
        out[0] = l;
        for (int k = 0; k < K; ++k) out[1 + k] = du[k];
    }
}

// Sums the splits in order, then dz_i = d u_i / d z_i applied to du_i.
__global__ void separation_combine_kernel(const SeparationArrays a, int splits) {
    const int B = a.batch, K = a.latent, q = blockIdx.y;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B) return;
    const float* partial = a.partial + size_t(q) * splits * B * (K + 1);
    const size_t row = size_t(q) * B + i;
    float l = 0.0f, du[kMaxLatent], dzi[kMaxLatent];
    for (int k = 0; k < K; ++k) du[k] = 0.0f, dzi[k] = a.accumulate_dz ? a.dz[row * K + k] : 0.0f;
    for (int s = 0; s < splits; ++s) {
        const float* in = partial + (size_t(s) * B + i) * (K + 1);
        l += in[0];
        for (int k = 0; k < K; ++k) du[k] += in[1 + k];
    }
    if (a.row_loss) a.row_loss[row] = l;
    if (a.weighted) a.weighted[q * a.weighted_stride + i] = a.omega[q * a.omega_stride + i] * l;
    unit_vector_backward(a.z + row * K, K, du, dzi);
    for (int k = 0; k < K; ++k) a.dz[row * K + k] = dzi[k];
}

// loss = sum_i omega_i l_i, one block, fixed order.
__global__ void __launch_bounds__(kReduceThreads) weighted_sum_kernel(const float* omega, const float* l, int B, float* out) {
    using Reduce = cub::BlockReduce<float, kReduceThreads>;
    __shared__ typename Reduce::TempStorage tmp;
    float part = 0.0f;
    for (int i = threadIdx.x; i < B; i += blockDim.x) part += omega[i] * l[i];
    const float total = Reduce(tmp).Sum(part);
    if (threadIdx.x == 0) *out = total;
}

template <int KT, int KMAX, int TILE>
void launch_tiles(dim3 grid, const SeparationArrays& a, int cols) {
    const auto kernel = separation_tile_kernel<KT, KMAX, TILE>;  // one name: the macro splits on commas
    SCA_LAUNCH(kernel, grid, kTileRows, 0)(a, cols);
}

}  // namespace

DeviceSeparation::DeviceSeparation(const SeparationProblem& problem, const std::vector<float>& z,
                                   const std::vector<float>& omega)
    : p_(problem) {
    const int B = p_.batch, K = p_.latent;
    if (B <= 0 || K <= 0 || K > kMaxLatent || z.size() != size_t(B) * K || omega.size() != size_t(B))
        throw CudaError("DeviceSeparation: z must be [B][K] with 0 < K <= " + std::to_string(kMaxLatent) + " and omega [B]");
    splits_ = separation_splits(B);
    z_ = DeviceBuffer<float>(z, "latents");
    u_ = DeviceBuffer<float>(z.size(), "unit vectors");
    omega_ = DeviceBuffer<float>(omega, "reduction weights");
    partial_ = DeviceBuffer<float>(size_t(splits_) * B * (K + 1), "partial sums");
    row_loss_ = DeviceBuffer<float>(size_t(B), "row losses");
    dz_ = DeviceBuffer<float>(z.size(), "the latent gradient");
    loss_ = DeviceBuffer<float>(1, "the loss");
}

int separation_splits(int batch) { return batch / 512 < 1 ? 1 : (batch / 512 > 32 ? 32 : batch / 512); }

size_t separation_partial_floats(int batch, int latent) {
    return size_t(separation_splits(batch)) * batch * (latent + 1);
}

void separation_unit_vectors(const float* z, int rows, int latent, float* u) {
    SCA_LAUNCH(unit_vectors_kernel, (rows + 255) / 256, 256, 0)(z, rows, latent, u);
    SCA_CUDA_CHECK_LAUNCH("unit_vectors_kernel");
}

void launch_separation(const SeparationArrays& a) {
    const int B = a.batch, K = a.latent, splits = separation_splits(B);
    int cols = (B + splits - 1) / splits;
    cols = (cols + kTileCols - 1) / kTileCols * kTileCols;
    const dim3 grid((B + kTileRows - 1) / kTileRows, splits, a.problems);
    switch (K) {
#define SCA_SEPARATION_CASE(KK)                             \
    case KK:                                                \
        launch_tiles<KK, KK, kTileCols>(grid, a, cols);     \
        break;
        SCA_SEPARATION_CASE(2)
        SCA_SEPARATION_CASE(3)
        SCA_SEPARATION_CASE(4)
        SCA_SEPARATION_CASE(5)
        SCA_SEPARATION_CASE(6)
        SCA_SEPARATION_CASE(8)
#undef SCA_SEPARATION_CASE
        default:
            if (K <= kNarrowLatent)
                launch_tiles<0, kNarrowLatent, kTileCols>(grid, a, cols);
            else
                launch_tiles<0, kMaxLatent, kWideTileCols>(grid, a, cols);
    }
    SCA_CUDA_CHECK_LAUNCH("separation_tile_kernel");
    SCA_LAUNCH(separation_combine_kernel, dim3((B + 255) / 256, a.problems), 256, 0)(a, splits);
    SCA_CUDA_CHECK_LAUNCH("separation_combine_kernel");
}

void DeviceSeparation::run() {
    const int B = p_.batch, K = p_.latent;
    separation_unit_vectors(z_.get(), B, K, u_.get());
    SeparationArrays a;
    a.batch = B, a.latent = K, a.power = p_.power, a.shift = p_.shift, a.weight = p_.weight;
    a.z = z_.get(), a.u = u_.get(), a.omega = omega_.get(), a.partial = partial_.get();
    a.row_loss = row_loss_.get(), a.dz = dz_.get();
    launch_separation(a);
    SCA_LAUNCH(weighted_sum_kernel, 1, kReduceThreads, 0)(omega_.get(), row_loss_.get(), B, loss_.get());
    SCA_CUDA_CHECK_LAUNCH("weighted_sum_kernel");
}

double DeviceSeparation::time_ms(int reps) {
    run();
    SCA_CUDA_CHECK(cudaDeviceSynchronize());
    const DeviceEvent start, stop;
    SCA_CUDA_CHECK(cudaEventRecord(start.get()));
    for (int r = 0; r < reps; ++r) run();
    SCA_CUDA_CHECK(cudaEventRecord(stop.get()));
    SCA_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    SCA_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    return double(ms) / reps;
}

float DeviceSeparation::loss() const {
    return loss_.download()[0];
}

std::vector<float> DeviceSeparation::row_loss() const {
    return row_loss_.download();
}

std::vector<float> DeviceSeparation::dz() const {
    return dz_.download();
}

double DeviceSeparation::flops() const {
    // Per pair: dot 2K, shift 2, the power by squaring (one multiply per
    // squaring and per set bit of p-1, then x c'), dfdc 2, g 3, du 2K.
    int pow_ops = 1;
    for (int n = p_.power - 1; n > 0; n >>= 1) pow_ops += 1 + (n & 1);
    const double per_pair = 4.0 * p_.latent + 2 + pow_ops + 2 + 3;
    return per_pair * double(p_.batch) * double(p_.batch);
}

}  // namespace sca::cuda
