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

// OpenBLAS starts its worker threads when the library loads, and they spin
// (sched_yield) for about 2^28 cycles before sleeping: ~0.1 s of CPU per
// process, more than a whole paper run, spent even when no GEMM follows
// (the paper's models never take one). This stops them; the first GEMM
// starts them again, as OpenBLAS does after fork().
void stop_idle_blas_threads();

// While `jobs` runs train at once (sweep --jobs, paper), each run's GEMMs
// use one BLAS thread: N runs with a BLAS thread per core each would put
// N x cores threads on the cores. An OPENBLAS_NUM_THREADS the user set is
// kept as it is. The previous count comes back when this goes out of scope
// (the count is process-wide: make one before starting the jobs).
class BlasThreadsForJobs {
public:
    explicit BlasThreadsForJobs(int jobs);
    ~BlasThreadsForJobs();
    BlasThreadsForJobs(const BlasThreadsForJobs&) = delete;
    BlasThreadsForJobs& operator=(const BlasThreadsForJobs&) = delete;

private:
    int previous_ = 0;  // 0: unchanged
};

}  // namespace sca
