// The CPU's vectorized separation against the shared per-row math of
// kernels/regularizers.hpp (what the GPU runs), evaluated in double.
#include <catch2/catch.hpp>

#include <cstring>
#include <optional>
#include <random>

#include "host/train/flush_denormals.hpp"
#include "host/train/separation_cpu.hpp"

using namespace sca;

namespace {

struct Reference {
    double loss;
    std::vector<double> dz;
};

// sum_i w_i l_i and its gradient by separation_row over every row.
Reference by_rows(const RegParams& p, const std::vector<double>& z, const std::vector<double>& w, int B, int K, double scale) {
    std::vector<double> u(z.size()), du(z.size(), 0.0);
    for (int i = 0; i < B; ++i) unit_vector(&z[size_t(i) * K], K, &u[size_t(i) * K]);
    Reference r{0, std::vector<double>(z.size(), 0.0)};
    for (int i = 0; i < B; ++i) r.loss += w[i] * separation_row(p, u.data(), w.data(), B, K, i, scale, &du[size_t(i) * K]);
    for (int i = 0; i < B; ++i) unit_vector_backward(&z[size_t(i) * K], K, &du[size_t(i) * K], &r.dz[size_t(i) * K]);
    return r;
}

}  // namespace

TEST_CASE("vectorized CPU separation equals the shared per-row math", "[separation]") {
    std::mt19937 rng(3);
    std::normal_distribution<double> n01;
    for (int B : {1, 2, 7, 8, 9, 64, 100}) {
        for (bool shift : {true, false}) {
            const int K = 5;
            RegParams p;
            p.power = shift ? 100 : 3;
            p.shift = shift;
            std::vector<double> z(size_t(B) * K), w(B);
            for (auto& v : z) v = n01(rng);
            for (int i = 0; i < B; ++i) {
                double len = 0;
                for (int k = 0; k < K; ++k) len += z[size_t(i) * K + k] * z[size_t(i) * K + k];
                for (int k = 0; k < K; ++k) z[size_t(i) * K + k] /= std::sqrt(len);
                w[i] = i % 3 == 0 ? 0.0 : 1.0 / B;
            }
            if (B > 3) std::copy(z.begin(), z.begin() + K, z.begin() + 3 * K);  // an exact duplicate: masked
            const Reference ref = by_rows(p, z, w, B, K, 0.7);

            SeparationCpu<double> sep_d(B, K);
            std::vector<double> dz_d(z.size(), 0.0);
            const double loss_d = sep_d.loss_and_grad(p, z.data(), w.data(), B, 0.7, dz_d.data());
            INFO("B " << B << ", shift " << shift);
            CHECK(loss_d == Approx(ref.loss).epsilon(1e-12).margin(1e-300));
            for (size_t i = 0; i < z.size(); ++i) CHECK(dz_d[i] == Approx(ref.dz[i]).epsilon(1e-10).margin(1e-12));

            // float (the AVX2 path where available) against the double reference.
            std::vector<float> zf(z.begin(), z.end()), wf(w.begin(), w.end()), dz_f(z.size(), 0.0f);
            SeparationCpu<float> sep_f(B, K);
            const float loss_f = sep_f.loss_and_grad(p, zf.data(), wf.data(), B, 0.7f, dz_f.data());
            double gscale = 1e-12;
            for (double v : ref.dz) gscale = std::max(gscale, std::abs(v));
            CHECK(loss_f == Approx(ref.loss).epsilon(1e-4).margin(1e-30));
            for (size_t i = 0; i < z.size(); ++i) CHECK(std::abs(dz_f[i] - ref.dz[i]) <= 1e-4 * gscale);
        }
    }
}

TEST_CASE("a zero latent is not paired with itself, in the shared row math as on the CPU", "[separation]") {
    // u = 0 gives c_ii = 0, which the mask for identical directions misses:
    // with p = 2 and the shift a self pair would add 0.25 to the row.
    const int B = 9, K = 5;
    RegParams p;
    p.power = 2;
    std::mt19937 rng(5);
    std::normal_distribution<double> n01;
    std::vector<double> z(size_t(B) * K), w(size_t(B), 1.0 / B);
    for (auto& v : z) v = n01(rng);
    std::fill(z.begin() + 4 * K, z.begin() + 5 * K, 0.0);
    const Reference ref = by_rows(p, z, w, B, K, 1.0);
    SeparationCpu<double> sep(B, K);
    std::vector<double> dz(z.size(), 0.0);
    CHECK(sep.loss_and_grad(p, z.data(), w.data(), B, 1.0, dz.data()) == Approx(ref.loss).epsilon(1e-12));
}

TEST_CASE("each lane of the F8 separation equals its float one bit for bit", "[separation][lanes]") {
    // F8 runs the row loop, float (with AVX2) the blocked schedule: the same
    // float operations per element in the same order, so the same bits. The
    // batches cover partial first and last blocks, K 1..9 the fused and the
    // row-loop widths; with flushed denormals (as training) and without.
    std::mt19937 rng(7);
    std::normal_distribution<float> n01;
    for (bool flush : {false, true}) {
        std::optional<FlushDenormals> ftz;
        if (flush) ftz.emplace();
        for (int B : {2, 7, 9, 16, 23, 64, 70}) {
            for (int K : {1, 4, 5, 8, 9}) {
                for (bool shift : {true, false}) {
                    RegParams p;
                    p.power = shift ? 100 : 3;
                    p.shift = shift;
                    std::vector<F8> z(size_t(B) * K), w(B), dz(z.size());
                    for (auto& v : z)
                        for (int m = 0; m < F8::kLanes; ++m) v[m] = n01(rng);
                    for (int i = 0; i < B; ++i)
                        for (int m = 0; m < F8::kLanes; ++m) w[i][m] = i % 3 == 0 ? 0.0f : n01(rng);
                    if (B > 3)
                        for (int k = 0; k < K; ++k) z[size_t(3) * K + k] = z[k];  // an exact duplicate: masked
                    for (auto& v : dz)
                        for (int m = 0; m < F8::kLanes; ++m) v[m] = n01(rng);
                    std::vector<F8> dz8 = dz;
                    SeparationCpu<F8> sep8(B, K);
                    F8 loss8 = sep8.loss_and_grad(p, z.data(), w.data(), B, F8(0.7f), dz8.data());
                    for (int m = 0; m < F8::kLanes; ++m) {
                        std::vector<float> zf(z.size()), wf(B), dzf(z.size());
                        for (size_t q = 0; q < z.size(); ++q) zf[q] = z[q][m], dzf[q] = dz[q][m];
                        for (int i = 0; i < B; ++i) wf[i] = w[i][m];
                        SeparationCpu<float> sep(B, K);
                        const float loss = sep.loss_and_grad(p, zf.data(), wf.data(), B, 0.7f, dzf.data());
                        INFO("B " << B << ", K " << K << ", shift " << shift << ", flush " << flush << ", lane " << m);
                        const float lane_loss = loss8[m];
                        CHECK(std::memcmp(&loss, &lane_loss, sizeof(float)) == 0);
                        size_t differ = 0;
                        for (size_t q = 0; q < z.size(); ++q) differ += std::memcmp(&dzf[q], &dz8[q][m], sizeof(float)) != 0;
                        CHECK(differ == 0);
                    }
                }
            }
        }
    }
}
