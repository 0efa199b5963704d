// cuBLAS for the wide-model trainer: one handle with a fixed configuration,
// so a run's bits do not depend on the environment. Math mode
// CUBLAS_DEFAULT_MATH: full FP32, no TF32 (TF32 needs
// CUBLAS_TF32_TENSOR_OP_MATH, which nothing sets); a fixed workspace of
// kWorkspaceBytes set with cublasSetWorkspace, so cuBLAS never allocates its
// own and picks the same algorithm every run (cuBLAS: bitwise reproducible
// for one toolkit version, architecture and SM count, on one stream). In the
// emulated build <cublas_v2.h> is cuda/emu's, computed by CBLAS.
#pragma once
#include <cublas_v2.h>

#include <string>

#include "cuda/device_buffer.hpp"

namespace sca::cuda {

inline void check_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
    if (s != CUBLAS_STATUS_SUCCESS)
        throw CudaError(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                        cublasGetStatusString(s));
}

#define SCA_CUBLAS_CHECK(call) ::sca::cuda::check_cublas((call), #call, __FILE__, __LINE__)

class BlasHandle {
public:
    static constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // cuBLAS's recommendation for Hopper

    BlasHandle() : workspace_(kWorkspaceBytes / sizeof(float), "the cuBLAS workspace") {
        SCA_CUBLAS_CHECK(cublasCreate(&h_));
        try {
            SCA_CUBLAS_CHECK(cublasSetMathMode(h_, CUBLAS_DEFAULT_MATH));
            SCA_CUBLAS_CHECK(cublasSetWorkspace(h_, workspace_.get(), kWorkspaceBytes));
        } catch (...) {
            cublasDestroy(h_);
            throw;
        }
    }
    ~BlasHandle() { cublasDestroy(h_); }
    BlasHandle(const BlasHandle&) = delete;
    BlasHandle& operator=(const BlasHandle&) = delete;
    cublasHandle_t get() const { return h_; }

private:
    DeviceBuffer<float> workspace_;
    cublasHandle_t h_ = nullptr;
};

// C = op(A) op(B) (beta 0) for `count` problems at the given strides: a plain
// GEMM for one, cublasSgemmStridedBatched for several.
inline void gemm_batched(const BlasHandle& blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const float* A, int lda, long long stride_a, const float* B, int ldb, long long stride_b,
                         float* C, int ldc, long long stride_c, int count) {
    const float one = 1.0f, zero = 0.0f;
    if (count == 1)
        SCA_CUBLAS_CHECK(cublasSgemm(blas.get(), ta, tb, m, n, k, &one, A, lda, B, ldb, &zero, C, ldc));
    else
        SCA_CUBLAS_CHECK(cublasSgemmStridedBatched(blas.get(), ta, tb, m, n, k, &one, A, lda, stride_a, B, ldb, stride_b,
                                                   &zero, C, ldc, stride_c, count));
}

}  // namespace sca::cuda
