#include <cuda_runtime_api.h>

#include "cuda/cuda_check.hpp"
#include "cuda/device_seam.hpp"
#include "kernels/colour.hpp"
#include "kernels/data_stream.hpp"
#include "kernels/regularizers.hpp"
#include "shared_math_cases.hpp"

namespace sca::gpu_test {

namespace {

// The cases; w[] and v[] receive the results in a fixed order.
SCA_HD void shared_math_cases(uint32_t* w, float* v) {
    int nw = 0, nv = 0;
    // Philox known-answer vectors (Random123 kat_vectors) and the data stream.
    const Philox4 a = philox4x32_10(0, 0, 0, 0, 0, 0);
    const Philox4 b = philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
    const Philox4 c = philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
    for (int k = 0; k < 4; ++k) w[nw++] = a.v[k];
    for (int k = 0; k < 4; ++k) w[nw++] = b.v[k];
    for (int k = 0; k < 4; ++k) w[nw++] = c.v[k];
    for (uint32_t i = 0; i < 8; ++i) w[nw++] = batch_point(12345ull + (1ull << 40), 750u, i, 512u);
    w[nw++] = uniform_index(0xffffffffu, 512u);
    for (uint32_t i = 0; i < 4; ++i) v[nv++] = label_uniform(7ull, 3u, i, i);
    for (uint32_t i = 0; i < 4; ++i) v[nv++] = init_uniform(7ull, 2u, i, 0.25f);
    v[nv++] = uniform01(0xffffffffu);
    // Colour.
    const float rgb[5][3] = {{1, 0, 0}, {1, 0.5f, 0}, {0.2f, 0.4f, 0.9f}, {0.5f, 0.5f, 0.5f}, {0, 1, 1}};
    for (int i = 0; i < 5; ++i) {
        const Hsv h = rgb_to_hsv(rgb[i][0], rgb[i][1], rgb[i][2]);
        v[nv++] = h.h, v[nv++] = h.s, v[nv++] = h.v;
        for (int f = 0; f < 4; ++f) v[nv++] = label_strength(LabelFunction(f), rgb[i][0], rgb[i][1], rgb[i][2]);
        v[nv++] = label_probability(LabelFunction::Redness, 8.0f, 0.08f, rgb[i][0], rgb[i][1], rgb[i][2]);
        v[nv++] = anchor_similarity(h, rgb_to_hsv(1, 0, 0));
    }
    // Regularizer math.
    v[nv++] = pow_int(0.99f, 100);
    v[nv++] = pow_int(0.5f, 7);
    float dfdc;
    v[nv++] = separation_pair(0.3f, 100, true, &dfdc);
    v[nv++] = dfdc;
    v[nv++] = separation_pair(0.95f, 100, true, &dfdc);
    v[nv++] = dfdc;
    v[nv++] = separation_pair(1.0f, 100, true, &dfdc);  // masked self pair
    v[nv++] = dfdc;
    v[nv++] = separation_pair(0.5f, 3, false, &dfdc);
    v[nv++] = dfdc;
    const float z[5] = {0.6f, -0.48f, 0.32f, 0.5f, -0.2f};
    float zn[5];
    unit_vector(z, 5, zn);  // not unit: exercises |z| != 1 paths below
    const float h[5] = {1.2f, -0.96f, 0.64f, 1.0f, -0.4f};
    for (int kind = 1; kind <= 6; ++kind) {
        RegParams p;
        p.kind = RegKind(kind);
        p.hemi = kind % 2 == 0;
        p.dims[0] = 0b101u;
        for (int k = 0; k < 5; ++k) p.dir[k] = k == 0 ? 1.0f : (k == 3 ? -0.5f : 0.0f);
        float dz[5] = {}, dh[5] = {};
        v[nv++] = sample_term(p, z, h, 5, 0.7f, dz, dh);
        for (int k = 0; k < 5; ++k) v[nv++] = dz[k];
        for (int k = 0; k < 5; ++k) v[nv++] = dh[k];
    }
    float du[5] = {0.1f, -0.2f, 0.3f, 0.05f, 0.0f}, dz[5] = {};
    unit_vector_backward(z, 5, du, dz);
    for (int k = 0; k < 5; ++k) v[nv++] = dz[k] + zn[k];
    // Separation rows over 4 samples.
    const float u4[4 * 3] = {1, 0, 0, 0.6f, 0.8f, 0, -0.6f, 0.8f, 0, 0.8f, 0, 0.6f};
    const float om[4] = {0.25f, 0.25f, 0.1f, 0.4f};
    RegParams sep;
    sep.power = 5;
    for (int i = 0; i < 4; ++i) {
        float dui[3] = {};
        v[nv++] = separation_row(sep, u4, om, 4, 3, i, 0.5f, dui);
        for (int k = 0; k < 3; ++k) v[nv++] = dui[k];
    }
    w[kSharedMathWords - 1] = uint32_t(nw);
    v[kSharedMathValues - 1] = float(nv);
}

__global__ void shared_math_kernel(uint32_t* w, float* v) { shared_math_cases(w, v); }

}  // namespace

SharedMathResults shared_math_on_host() {
    SharedMathResults r{std::vector<uint32_t>(kSharedMathWords), std::vector<float>(kSharedMathValues)};
    shared_math_cases(r.words.data(), r.values.data());
    return r;
}

SharedMathResults shared_math_on_device() {
    uint32_t* w = nullptr;
    float* v = nullptr;
    SCA_CUDA_CHECK(cudaMalloc(&w, kSharedMathWords * sizeof(uint32_t)));
    SCA_CUDA_CHECK(cudaMalloc(&v, kSharedMathValues * sizeof(float)));
    SCA_CUDA_CHECK(cudaMemset(w, 0, kSharedMathWords * sizeof(uint32_t)));
    SCA_CUDA_CHECK(cudaMemset(v, 0, kSharedMathValues * sizeof(float)));
    SCA_LAUNCH(shared_math_kernel, 1, 1, 0)(w, v);
    SCA_CUDA_CHECK_LAUNCH("shared_math_kernel");
    SCA_CUDA_CHECK(cudaDeviceSynchronize());
    SharedMathResults r{std::vector<uint32_t>(kSharedMathWords), std::vector<float>(kSharedMathValues)};
    SCA_CUDA_CHECK(cudaMemcpy(r.words.data(), w, kSharedMathWords * sizeof(uint32_t), cudaMemcpyDeviceToHost));
    SCA_CUDA_CHECK(cudaMemcpy(r.values.data(), v, kSharedMathValues * sizeof(float), cudaMemcpyDeviceToHost));
    cudaFree(w);
    cudaFree(v);
    return r;
}

}  // namespace sca::gpu_test
