// One call shape for the BLAS GEMM in float and double (the double
// instantiation is the finite-difference oracle of the wide path). Row-major,
// as every matrix here is stored: C = alpha op(A) op(B) + beta C.
#pragma once
#include <cblas.h>

namespace sca {

inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                 int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
                 const double* b, int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a, lda, b, ldb, beta, c, ldc);
}

// The BLAS's own thread count (OpenBLAS: OPENBLAS_NUM_THREADS, else one per core).
int blas_threads();
void set_blas_threads(int n);
const char* blas_name();  // e.g. "OpenBLAS 0.3.21 (pthreads)"

}  // namespace sca
