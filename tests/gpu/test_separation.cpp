// The tiled large-batch separation term against a double-precision CPU
// evaluation of the shared per-pair math (kernels/regularizers.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <random>

#include "cuda/separation_tiled.hpp"
#include "kernels/regularizers.hpp"

TEST_CASE("tiled separation matches the CPU in double for B up to 4096", "[gpu][separation]") {
    for (int B : {64, 500, 4096}) {
        const int K = 5;
        std::mt19937 rng(B);
        std::normal_distribution<float> normal;
        std::uniform_real_distribution<float> uni(0, 1);
        std::vector<float> z(size_t(B) * K), omega(B);
        double osum = 0;
        for (int i = 0; i < B; ++i) {
            float n = 0;
            for (int k = 0; k < K; ++k) n += (z[i * K + k] = normal(rng)) * z[i * K + k];
            for (int k = 0; k < K; ++k) z[i * K + k] /= std::sqrt(n);
            omega[i] = uni(rng) < 0.3f ? uni(rng) : 0.0f;
            osum += omega[i];
        }
        for (auto& o : omega) o = float(o / (osum + 1e-8));
        for (int k = 0; k < K; ++k) z[7 * K + k] = z[3 * K + k];  // an exact duplicate: masked pair
        sca::cuda::SeparationProblem p{B, K, 100, true, 0.01f};
        sca::cuda::DeviceSeparation sep(p, z, omega);
        sep.run();
        const auto dz = sep.dz();
        const auto rows = sep.row_loss();
        // Reference in double.
        std::vector<double> zd(z.begin(), z.end()), u(zd.size()), wd(omega.begin(), omega.end()), du(zd.size(), 0.0);
        for (int i = 0; i < B; ++i) sca::unit_vector(&zd[i * K], K, &u[i * K]);
        sca::RegParams rp;
        double L = 0, dz_scale = 0, worst_row = 0, worst_dz = 0;
        std::vector<double> ref_rows(B), ref_dz(zd.size(), 0.0);
        for (int i = 0; i < B; ++i) {
            ref_rows[i] = sca::separation_row(rp, u.data(), wd.data(), B, K, i, double(p.weight), &du[i * K]);
            L += wd[i] * ref_rows[i];
            sca::unit_vector_backward(&zd[i * K], K, &du[i * K], &ref_dz[i * K]);
        }
        for (double v : ref_dz) dz_scale = std::max(dz_scale, std::fabs(v));
        double row_scale = 0;
        for (double v : ref_rows) row_scale = std::max(row_scale, std::fabs(v));
        for (int i = 0; i < B; ++i) {
            worst_row = std::max(worst_row, std::fabs(rows[i] - ref_rows[i]) / (1e-4 * row_scale + 1e-30));
            for (int k = 0; k < K; ++k)
                worst_dz = std::max(worst_dz, std::fabs(dz[i * K + k] - ref_dz[i * K + k]) / (1e-4 * dz_scale + 1e-30));
        }
        const double loss_used = std::fabs(sep.loss() - L) / (1e-4 * std::fabs(L) + 1e-30);
        std::printf("separation B=%d (splits %d): loss %.3e of tolerance %.1f%%, rows %.1f%%, dz %.1f%% "
                    "(rel 1e-4 of the largest entry, float vs double)\n",
                    B, sep.splits(), L, 100 * loss_used, 100 * worst_row, 100 * worst_dz);
        CHECK(loss_used <= 1.0);
        CHECK(worst_row <= 1.0);
        CHECK(worst_dz <= 1.0);
    }
}
