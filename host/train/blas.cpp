#include "host/train/blas.hpp"

#include <cblas.h>

#include <cstdlib>

// OpenBLAS's own fork handler; not in cblas.h. Weak, so another BLAS links too.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace sca {

void stop_idle_blas_threads() {
    if (blas_thread_shutdown_ != nullptr) blas_thread_shutdown_();
}

int blas_threads() { return openblas_get_num_threads(); }
void set_blas_threads(int n) { openblas_set_num_threads(n); }

const char* blas_name() {
    // openblas_get_config() names the version and kernel (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64").
    return openblas_get_config();
}

BlasThreadsForJobs::BlasThreadsForJobs(int jobs) {
    if (jobs <= 1 || std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
    previous_ = blas_threads();
    if (previous_ != 1) set_blas_threads(1);
    else previous_ = 0;
}

BlasThreadsForJobs::~BlasThreadsForJobs() {
    if (previous_ > 0) set_blas_threads(previous_);
}

}  // namespace sca
