// Interventions on a trained model (docs/method.md §7): suppression edits the normalized
// latent before the decoder; ablation zeroes the weights that produce and
// consume chosen latent dims; pruning removes them (K shrinks) and gives the
// same outputs as ablation.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "host/config/model_shape.hpp"

namespace sca {

// A trained model: its shape and flat parameters (linear_layers() layout).
struct Model {
    ModelShape shape;
    std::vector<float> params;
};

// Reads a model.safetensors; the shape comes from its tensors.
Model load_model(const std::string& path);
void save_model(const std::string& path, const Model& model, std::map<std::string, std::string> metadata = {});

struct Suppression {
    std::vector<float> direction;  // K entries, need not be unit
    float falloff = 0;             // a0 in [0, 1]
    float strength = 1;            // b
    float power = 0;               // p
};

// The gain g(d) of docs/method.md §7 for an alignment d = clamp(z . a_hat, 0, 1).
float suppression_gain(float d, const Suppression& s);
// Applies suppression in place to z, feature-major [K][B].
void suppress(const Suppression& s, float* z, int K, int B);

// Same shape; rows (weight and bias) of the last encoder Linear and columns of
// the first decoder Linear zeroed for each dim in `dims`.
Model ablate(const Model& model, const std::vector<int>& dims);
// Those rows and columns removed: latent width K - |dims|.
Model prune(const Model& model, const std::vector<int>& dims);

// What a model does to a set of colours.
struct Inference {
    int count = 0, latent = 0;
    std::vector<float> latents;  // sample-major [count][K]: z, after suppression if any
    std::vector<float> outputs;  // sample-major [count][D]: decoder output, clamped to [0, 1] for colours
};

// rgb: sample-major [count][input_dim]. `suppression` may be null. `clamp`:
// colours are clamped to [0, 1]; data from files is left as the decoder gives it.
Inference infer(const Model& model, const std::vector<float>& rgb, const Suppression* suppression = nullptr,
                bool clamp = true);

}  // namespace sca
