#include "host/eval/interventions.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/regularizers.hpp"
#include "host/config/checkpoint.hpp"
#include "host/train/cpu_net.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace {

// The dims as a sorted, checked list.
std::vector<bool> dim_mask(const ModelShape& shape, const std::vector<int>& dims, const char* what) {
    std::vector<bool> mask(size_t(shape.latent), false);
    for (int d : dims) {
        if (d < 0 || d >= shape.latent)
            throw std::invalid_argument(std::string(what) + ": dim " + std::to_string(d) + " is out of range [0, " +
                                        std::to_string(shape.latent) + ")");
        if (mask[size_t(d)]) throw std::invalid_argument(std::string(what) + ": dim " + std::to_string(d) + " is listed twice");
        mask[size_t(d)] = true;
    }
    return mask;
}

}  // namespace

Model load_model(const std::string& path) {
    const TensorFile f = load_safetensors(path);
    Model m;
    m.shape = shape_from(f, path);
    m.params = params_from(f, m.shape, path);
    return m;
}

void save_model(const std::string& path, const Model& model, std::map<std::string, std::string> metadata) {
    save_safetensors(path, model_file(model.shape, model.params, std::move(metadata)));
}

float suppression_gain(float d, const Suppression& s) {
    if (double(s.falloff) >= 1.0 - 1e-8) return d;  // a hard edge: remove exactly the aligned part
    if (!(d > s.falloff)) return 0.0f;
    if (s.power == 0.0f) return s.strength;  // 0^0 = 1: a step of height b
    return s.strength * std::pow((d - s.falloff) / (1.0f - s.falloff), s.power);
}

void suppress(const Suppression& s, float* z, int K, int B) {
    if (int(s.direction.size()) != K)
        throw std::invalid_argument("suppression: direction has " + std::to_string(s.direction.size()) +
                                    " entries but the latent has " + std::to_string(K));
    float len = 0;
    for (float a : s.direction) len += a * a;
    len = std::sqrt(len);
    std::vector<float> a_hat(static_cast<size_t>(K));
    for (int k = 0; k < K; ++k) a_hat[size_t(k)] = s.direction[size_t(k)] / (len + kDirEps);
    for (int b = 0; b < B; ++b) {
        float dot = 0;
        for (int k = 0; k < K; ++k) dot += z[size_t(k) * B + b] * a_hat[size_t(k)];
        const float g = suppression_gain(std::clamp(dot, 0.0f, 1.0f), s);
        if (g == 0.0f) continue;
        for (int k = 0; k < K; ++k) z[size_t(k) * B + b] -= g * dot * a_hat[size_t(k)];
    }
}

Model ablate(const Model& model, const std::vector<int>& dims) {
    const auto mask = dim_mask(model.shape, dims, "ablation");
    Model out = model;
    const auto layers = linear_layers(model.shape);
    const int enc = encoder_layer_count(model.shape);
    const LinearLayer& producer = layers[size_t(enc - 1)];
    const LinearLayer& consumer = layers[size_t(enc)];
    for (int k = 0; k < model.shape.latent; ++k) {
        if (!mask[size_t(k)]) continue;
        for (int i = 0; i < producer.in; ++i) out.params[producer.weight + size_t(k) * producer.in + i] = 0.0f;
        out.params[producer.bias + size_t(k)] = 0.0f;
        for (int o = 0; o < consumer.out; ++o) out.params[consumer.weight + size_t(o) * consumer.in + k] = 0.0f;
    }
    return out;
}

Model prune(const Model& model, const std::vector<int>& dims) {
    const auto mask = dim_mask(model.shape, dims, "pruning");
    const int removed = int(std::count(mask.begin(), mask.end(), true));
    if (removed >= model.shape.latent)
        throw std::invalid_argument("pruning: removing every latent dim leaves no bottleneck");
    Model out;
    out.shape = model.shape;
    out.shape.latent -= removed;
    out.params.resize(parameter_count(out.shape));
    const auto from = linear_layers(model.shape);
    const auto to = linear_layers(out.shape);
    const int enc = encoder_layer_count(model.shape);
    // kept[j] = the old index of new latent dim j.
    std::vector<int> kept;
    for (int k = 0; k < model.shape.latent; ++k)
        if (!mask[size_t(k)]) kept.push_back(k);
    for (size_t l = 0; l < from.size(); ++l) {
        const LinearLayer &F = from[l], &T = to[l];
        const bool producer = int(l) == enc - 1, consumer = int(l) == enc;
        for (int o = 0; o < T.out; ++o) {
            const int src_o = producer ? kept[size_t(o)] : o;
            out.params[T.bias + size_t(o)] = model.params[F.bias + size_t(src_o)];
            for (int i = 0; i < T.in; ++i) {
                const int src_i = consumer ? kept[size_t(i)] : i;
                out.params[T.weight + size_t(o) * T.in + i] = model.params[F.weight + size_t(src_o) * F.in + src_i];
            }
        }
    }
    return out;
}

Inference infer(const Model& model, const std::vector<float>& rgb, const Suppression* suppression, bool clamp) {
    const int D = model.shape.input_dim, K = model.shape.latent;
    if (rgb.size() % size_t(D) != 0) throw std::invalid_argument("infer: the input is not a whole number of colours");
    Inference r;
    r.count = int(rgb.size() / size_t(D));
    r.latent = K;
    r.latents.resize(size_t(r.count) * K);
    r.outputs.resize(size_t(r.count) * D);
    constexpr int kChunk = 1024;
    CpuNet<float> net(model.shape, kChunk);
    std::vector<float> x(size_t(D) * kChunk), z(size_t(K) * kChunk);
    for (int start = 0; start < r.count; start += kChunk) {
        const int B = std::min(kChunk, r.count - start);
        for (int b = 0; b < B; ++b)
            for (int d = 0; d < D; ++d) x[size_t(d) * B + b] = rgb[size_t(start + b) * D + d];
        net.encode(model.params.data(), x.data(), B);
        std::copy(net.latent(), net.latent() + size_t(K) * B, z.begin());
        if (suppression) suppress(*suppression, z.data(), K, B);
        net.decode(model.params.data(), z.data(), B);
        const float* y = net.output();
        for (int b = 0; b < B; ++b) {
            for (int k = 0; k < K; ++k) r.latents[size_t(start + b) * K + k] = z[size_t(k) * B + b];
            for (int d = 0; d < D; ++d)
                r.outputs[size_t(start + b) * D + d] = clamp ? std::clamp(y[size_t(d) * B + b], 0.0f, 1.0f) : y[size_t(d) * B + b];
        }
    }
    return r;
}

}  // namespace sca
