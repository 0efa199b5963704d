#include "host/train/blas.hpp"

#include <cblas.h>

namespace sca {

int blas_threads() { return openblas_get_num_threads(); }
void set_blas_threads(int n) { openblas_set_num_threads(n); }

const char* blas_name() {
    // openblas_get_config() names the version and kernel (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64").
    return openblas_get_config();
}

}  // namespace sca
