// Where the BLAS path starts to pay: forward + backward of a D=H=W, K=16,
// two-hidden-layer model through CpuNet<float> with the GEMM threshold at
// several values (a layer takes the GEMM when both its sides are at least the
// threshold; "never" keeps every layer on the hand-written loops). Prints ms of
// thread CPU time per pass (min of repeats, one BLAS thread) per width, batch and threshold; the fastest
// threshold across widths is kGemmMinWidth (host/train/gemm_layers.hpp).
//   sca_bench_gemm_crossover
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <cstdlib>
#include <random>
#include <vector>

#include "host/train/blas.hpp"
#include "host/train/cpu_net.hpp"

namespace {

// This thread's CPU time: other processes on a shared machine do not inflate
// it (with one BLAS thread the GEMMs run on this thread).
double thread_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

double min_ms(sca::CpuNet<float>& net, const std::vector<float>& params, const std::vector<float>& x, int B,
                 std::vector<float>& grad, int repeats) {
    const int D = net.shape().input_dim;
    std::vector<float> dy(size_t(D) * B, 1e-3f);
    std::vector<double> t;
    for (int r = 0; r < repeats + 1; ++r) {
        const double t0 = thread_cpu_ms();
        net.forward(params.data(), x.data(), B);
        net.backward(params.data(), dy.data(), nullptr, nullptr, grad.data());
        if (r > 0) t.push_back(thread_cpu_ms() - t0);
    }
    return *std::min_element(t.begin(), t.end());
}

}  // namespace

int main() {
    sca::set_blas_threads(1);
    fmt::print("BLAS {} with {} thread(s)\n", sca::blas_name(), sca::blas_threads());
    fmt::print("{:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "width", "batch", "never", "T=128", "T=64", "T=32", "T=16");
    for (int W : {16, 32, 48, 64, 96, 128, 256})
        for (int B : {64, 256, 1024}) {
            const sca::ModelShape shape{W, W, 2, 16};
            const auto params = sca::init_parameters(shape, 1);
            std::vector<float> x(size_t(W) * B), grad(params.size());
            std::mt19937 rng(2);
            std::uniform_real_distribution<float> u(-1, 1);
            for (float& v : x) v = u(rng);
            const int repeats = std::max(5, int(2e7 / (double(params.size()) * B)));
            fmt::print("{:>6} {:>6}", W, B);
            for (int T : {INT_MAX, 128, 64, 32, 16}) {
                sca::CpuNet<float> net(shape, B, T);
                fmt::print(" {:>10.3f}", min_ms(net, params, x, B, grad, repeats));
            }
            fmt::print("\n");
        }
    return 0;
}
