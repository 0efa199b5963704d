#include "host/config/model_shape.hpp"

#include <cmath>

#include "kernels/data_stream.hpp"

namespace sca {

int encoder_layer_count(const ModelShape& shape) { return shape.layers + 1; }

std::vector<LinearLayer> linear_layers(const ModelShape& s) {
    std::vector<LinearLayer> layers;
    size_t offset = 0;
    auto side = [&](const char* prefix, int in, int out) {
        std::vector<int> widths{in};
        for (int l = 0; l < s.layers; ++l) widths.push_back(s.hidden);
        widths.push_back(out);
        for (size_t l = 0; l + 1 < widths.size(); ++l) {
            LinearLayer L;
            L.in = widths[l];
            L.out = widths[l + 1];
            L.weight = offset;
            offset += size_t(L.in) * L.out;
            L.bias = offset;
            offset += L.out;
            L.gelu_after = l + 2 < widths.size();
            const std::string base = std::string(prefix) + "." + std::to_string(2 * l) + ".";
            L.weight_name = base + "weight";
            L.bias_name = base + "bias";
            layers.push_back(L);
        }
    };
    side("encoder", s.input_dim, s.latent);
    side("decoder", s.latent, s.input_dim);
    return layers;
}

size_t parameter_count(const ModelShape& shape) {
    const auto layers = linear_layers(shape);
    return layers.back().bias + layers.back().out;
}

std::vector<float> init_parameters(const ModelShape& shape, unsigned long long seed) {
    std::vector<float> params(parameter_count(shape));
    const auto layers = linear_layers(shape);
    for (size_t l = 0; l < layers.size(); ++l) {
        const LinearLayer& L = layers[l];
        const float bound = 1.0f / std::sqrt(float(L.in));
        const uint32_t weight_tensor = uint32_t(2 * l), bias_tensor = uint32_t(2 * l + 1);
        for (int i = 0; i < L.in * L.out; ++i)
            params[L.weight + i] = init_uniform(seed, weight_tensor, uint32_t(i), bound);
        for (int i = 0; i < L.out; ++i) params[L.bias + i] = init_uniform(seed, bias_tensor, uint32_t(i), bound);
    }
    return params;
}

}  // namespace sca
