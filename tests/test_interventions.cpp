// Interventions (docs/method.md §7) on models whose right answer is known in closed form.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "host/config/checkpoint.hpp"
#include "host/config/dataset.hpp"
#include "host/eval/interventions.hpp"

using namespace sca;

namespace {

// D=3, H=2, N=1, K=2. The encoder ignores its input: h = latent_bias, so z is
// its direction. The decoder is out = b2 + W2 gelu(z) with W2 below.
Model constant_latent_model(float h0, float h1) {
    Model m;
    m.shape = ModelShape{3, 2, 1, 2};
    m.params.assign(parameter_count(m.shape), 0.0f);
    const auto L = linear_layers(m.shape);
    float* p = m.params.data();
    p[L[1].bias + 0] = h0;
    p[L[1].bias + 1] = h1;
    p[L[2].weight + 0] = 1;  // decoder.0 = identity, bias 0
    p[L[2].weight + 3] = 1;
    const float w2[3][2] = {{0.5f, 0.0f}, {0.0f, 0.5f}, {0.25f, 0.25f}};
    for (int o = 0; o < 3; ++o)
        for (int i = 0; i < 2; ++i) p[L[3].weight + size_t(o) * 2 + i] = w2[o][i];
    p[L[3].bias + 0] = 0.1f;
    p[L[3].bias + 1] = 0.2f;
    p[L[3].bias + 2] = 0.3f;
    return m;
}

constexpr float kGelu1 = 0.8413447460685429f;  // 0.5 (1 + erf(1 / sqrt 2))

std::vector<float> some_colours() {
    std::vector<float> rgb = training_grid(8).rgb;
    // Off-grid colours too, from a fixed LCG.
    uint32_t s = 12345;
    for (int i = 0; i < 3 * 200; ++i) {
        s = s * 1664525u + 1013904223u;
        rgb.push_back(float(s >> 8) / float(1 << 24));
    }
    return rgb;
}

}  // namespace

TEST_CASE("the suppression gain follows docs/method.md §7, including 0^0 and the a0 = 1 edge", "[interventions]") {
    Suppression paper;  // a0 = 0, b = 1, p = 0
    CHECK(suppression_gain(0.0f, paper) == 0.0f);  // d must exceed a0
    CHECK(suppression_gain(1e-6f, paper) == 1.0f);
    CHECK(suppression_gain(0.3f, paper) == 1.0f);
    CHECK(suppression_gain(1.0f, paper) == 1.0f);
    Suppression linear{{}, 0.5f, 1.0f, 1.0f};
    CHECK(suppression_gain(0.5f, linear) == 0.0f);
    CHECK(suppression_gain(0.4f, linear) == 0.0f);
    CHECK(suppression_gain(0.75f, linear) == Approx(0.5f));
    CHECK(suppression_gain(1.0f, linear) == Approx(1.0f));
    Suppression square{{}, 0.2f, 0.5f, 2.0f};
    CHECK(suppression_gain(0.6f, square) == Approx(0.5 * 0.25));
    Suppression step{{}, 0.5f, 0.7f, 0.0f};  // 0^0 = 1: a step of height b right above a0
    CHECK(suppression_gain(0.5000001f, step) == Approx(0.7f));
    Suppression edge{{}, 1.0f, 0.3f, 5.0f};  // a0 >= 1 - 1e-8: g = d, b and p ignored
    CHECK(suppression_gain(0.25f, edge) == 0.25f);
    CHECK(suppression_gain(1.0f, edge) == 1.0f);
}

TEST_CASE("suppression removes an aligned latent, keeps orthogonal and opposite ones", "[interventions]") {
    Suppression s{{2, 0, 0, 0}, 0, 1, 0};  // a need not be unit
    // Four samples, feature-major [K=4][B=4]: aligned, orthogonal, opposite, mixed.
    float z[4][4] = {{1, 0, -1, 0.6f}, {0, 1, 0, 0.8f}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    suppress(s, &z[0][0], 4, 4);
    CHECK(std::abs(z[0][0]) < 1e-7f);  // aligned -> 0 (up to a_hat's 1e-8)
    CHECK(z[0][1] == 0.0f);
    CHECK(z[1][1] == 1.0f);  // orthogonal: untouched
    CHECK(z[0][2] == -1.0f);  // other hemisphere: d clamps to 0, untouched
    CHECK(std::abs(z[0][3]) < 1e-7f);  // mixed: only the red component goes
    CHECK(z[1][3] == 0.8f);

    // A diagonal direction and a soft falloff: d = 0.6, g = (0.6 - 0.5) / 0.5 = 0.2.
    Suppression soft{{1, 1, 0, 0}, 0.5f, 1, 1};
    const float r = 1.0f / std::sqrt(2.0f);
    float w[4][1] = {{0.6f * r + 0.8f * r}, {0.6f * r - 0.8f * r}, {0}, {0}};  // 0.6 along a, 0.8 across
    suppress(soft, &w[0][0], 4, 1);
    // z' = z - 0.2 * 0.6 * a_hat: along a 0.48 remains, across 0.8.
    CHECK((w[0][0] + w[1][0]) * r == Approx(0.48f).margin(1e-6));
    CHECK((w[0][0] - w[1][0]) * r == Approx(0.8f).margin(1e-6));
    CHECK_THROWS(suppress(Suppression{{1, 0}, 0, 1, 0}, &w[0][0], 4, 1));
}

TEST_CASE("suppressing the anchored direction decodes the aligned latent as the decoder's z = 0 output", "[interventions]") {
    const std::vector<float> rgb{1, 0, 0, 0.3f, 0.6f, 0.9f};
    Suppression red{{1, 0}, 0, 1, 0};
    // z = e0 everywhere: the plain output uses gelu(1); suppressed, z' = 0 and out = b2.
    const Model aligned = constant_latent_model(3.0f, 0.0f);
    const Inference plain = infer(aligned, rgb);
    CHECK(plain.latents[0] == Approx(1.0f));
    CHECK(plain.outputs[0] == Approx(0.1f + 0.5f * kGelu1));
    CHECK(plain.outputs[1] == Approx(0.2f));
    CHECK(plain.outputs[2] == Approx(0.3f + 0.25f * kGelu1));
    const Inference cut = infer(aligned, rgb, &red);
    for (int b = 0; b < 2; ++b) {
        CHECK(std::abs(cut.latents[2 * b]) < 1e-6f);
        CHECK(cut.outputs[3 * b + 0] == Approx(0.1f).margin(1e-6));
        CHECK(cut.outputs[3 * b + 1] == Approx(0.2f).margin(1e-6));
        CHECK(cut.outputs[3 * b + 2] == Approx(0.3f).margin(1e-6));
    }
    // z = e1 everywhere: orthogonal to the direction, so nothing changes, bit for bit.
    const Model across = constant_latent_model(0.0f, 0.5f);
    const Inference a = infer(across, rgb), b = infer(across, rgb, &red);
    CHECK(a.outputs == b.outputs);
    CHECK(a.latents == b.latents);
    CHECK(a.outputs[1] == Approx(0.2f + 0.5f * kGelu1));
}

TEST_CASE("ablation zeroes exactly the producing rows and consuming columns", "[interventions]") {
    Model m{ModelShape{3, 16, 2, 5}, init_parameters(ModelShape{3, 16, 2, 5}, 3)};
    const Model a = ablate(m, {1, 4});
    const auto L = linear_layers(m.shape);
    const LinearLayer &producer = L[2], &consumer = L[3];  // encoder.4, decoder.0
    size_t changed = 0;
    for (size_t i = 0; i < m.params.size(); ++i) changed += a.params[i] != m.params[i];
    CHECK(changed == 2 * (16 + 1) + 2 * 16);
    for (int k : {1, 4}) {
        CHECK(a.params[producer.bias + k] == 0.0f);
        for (int i = 0; i < 16; ++i) CHECK(a.params[producer.weight + size_t(k) * 16 + i] == 0.0f);
        for (int o = 0; o < 16; ++o) CHECK(a.params[consumer.weight + size_t(o) * 5 + k] == 0.0f);
    }
    CHECK(a.params[producer.bias + 0] == m.params[producer.bias + 0]);
    CHECK_THROWS(ablate(m, {5}));
    CHECK_THROWS(ablate(m, {2, 2}));
}

TEST_CASE("on the constant-latent model, ablating the latent's dim leaves z = 0", "[interventions]") {
    const Model m = constant_latent_model(3.0f, 0.0f);
    const std::vector<float> rgb{0.2f, 0.4f, 0.6f};
    const Inference a = infer(ablate(m, {0}), rgb);
    CHECK(a.latents == std::vector<float>{0.0f, 0.0f});
    CHECK(a.outputs[0] == Approx(0.1f));
    const Inference p = infer(prune(m, {0}), rgb);
    CHECK(p.latent == 1);
    CHECK(p.outputs == a.outputs);
}

TEST_CASE("ablated and pruned models give identical outputs on every input", "[interventions]") {
    const auto rgb = some_colours();
    struct Case {
        ModelShape shape;
        std::vector<int> dims;
        unsigned long long seed;
    };
    for (const Case& c : {Case{{3, 16, 1, 4}, {0}, 1}, Case{{3, 16, 2, 5}, {0}, 2}, Case{{3, 16, 2, 5}, {1, 3}, 5},
                          Case{{3, 8, 3, 6}, {5, 0, 2}, 7}}) {
        const Model m{c.shape, init_parameters(c.shape, c.seed)};
        const Model pruned = prune(m, c.dims);
        CHECK(pruned.shape.latent == c.shape.latent - int(c.dims.size()));
        CHECK(pruned.params.size() == parameter_count(pruned.shape));
        const Inference a = infer(ablate(m, c.dims), rgb), p = infer(pruned, rgb);
        REQUIRE(a.count == p.count);
        CHECK(std::memcmp(a.outputs.data(), p.outputs.data(), a.outputs.size() * 4) == 0);
        // The pruned latent is the ablated one without its zeroed dims.
        std::vector<float> kept;
        for (int i = 0; i < a.count; ++i)
            for (int k = 0; k < c.shape.latent; ++k) {
                const float v = a.latents[size_t(i) * c.shape.latent + k];
                if (std::find(c.dims.begin(), c.dims.end(), k) == c.dims.end()) kept.push_back(v);
                else CHECK(v == 0.0f);
            }
        CHECK(kept == p.latents);
        // And the intervention did something: outputs differ from the intact model's.
        CHECK(infer(m, rgb).outputs != a.outputs);
    }
    const Model m{ModelShape{3, 16, 1, 4}, init_parameters(ModelShape{3, 16, 1, 4}, 1)};
    CHECK_THROWS(prune(m, {0, 1, 2, 3}));
}

TEST_CASE("a pruned model saves as a smaller PyTorch-named checkpoint that loads back", "[interventions][checkpoint]") {
    const ModelShape shape{3, 16, 2, 5};
    const Model m{shape, init_parameters(shape, 11)};
    const Model pruned = prune(m, {0, 2});
    const auto path = (std::filesystem::temp_directory_path() / ("sca_test_pruned-" + std::to_string(::getpid()) + ".safetensors")).string();
    save_model(path, pruned, {{"pruned_dims", "[0,2]"}});
    const TensorFile f = load_safetensors(path);
    CHECK(f.tensors.at("encoder.4.weight").shape == std::vector<int64_t>{3, 16});
    CHECK(f.tensors.at("encoder.4.bias").shape == std::vector<int64_t>{3});
    CHECK(f.tensors.at("decoder.0.weight").shape == std::vector<int64_t>{16, 3});
    // Row k of the pruned producer is row kept[k] = {1, 3, 4}[k] of the original.
    const auto& w = f.tensors.at("encoder.4.weight").data;
    const auto L = linear_layers(shape);
    for (int i = 0; i < 16; ++i) CHECK(w[16 + i] == m.params[L[2].weight + 3 * 16 + i]);
    const Model back = load_model(path);
    CHECK(back.shape.latent == 3);
    CHECK(back.params == pruned.params);
    std::filesystem::remove(path);
}
