// The autoencoder's shape and where each Linear layer's tensors sit in one
// flat parameter vector (docs/method.md §1). Layer order: encoder Linears, then decoder.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace sca {

struct ModelShape {
    int input_dim = 3;
    int hidden = 16;
    int layers = 1;  // nonlinear layers per side (N)
    int latent = 4;  // bottleneck width (K)
};

struct LinearLayer {
    int in = 0, out = 0;
    size_t weight = 0, bias = 0;  // offsets into the flat parameter vector
    bool gelu_after = false;
    std::string weight_name, bias_name;  // PyTorch state_dict keys
};

// Encoder: Linear(D,H) GELU [Linear(H,H) GELU]x(N-1) Linear(H,K); decoder mirrors it.
std::vector<LinearLayer> linear_layers(const ModelShape& shape);
size_t parameter_count(const ModelShape& shape);
int encoder_layer_count(const ModelShape& shape);

// nn.Linear-style init, U(-1/sqrt(in), 1/sqrt(in)), from the seed's Init stream.
std::vector<float> init_parameters(const ModelShape& shape, unsigned long long seed);

}  // namespace sca
