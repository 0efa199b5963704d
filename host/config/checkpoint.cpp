#include "host/config/checkpoint.hpp"

#include <algorithm>
#include <charconv>

#include "host/config/config.hpp"
#include "host/io/errors.hpp"

namespace sca {

namespace {

void put(TensorFile& f, const std::string& prefix, const ModelShape& shape, const std::vector<float>& v) {
    for (const auto& L : linear_layers(shape)) {
        f.tensors[prefix + L.weight_name] = Tensor{{L.out, L.in}, {v.begin() + std::ptrdiff_t(L.weight), v.begin() + std::ptrdiff_t(L.weight + size_t(L.in) * L.out)}};
        f.tensors[prefix + L.bias_name] = Tensor{{L.out}, {v.begin() + std::ptrdiff_t(L.bias), v.begin() + std::ptrdiff_t(L.bias + L.out)}};
    }
}

std::vector<float> take(const TensorFile& f, const std::string& prefix, const ModelShape& shape, const std::string& source) {
    std::vector<float> v(parameter_count(shape));
    for (const auto& L : linear_layers(shape)) {
        for (const auto& [name, offset, dims] :
             {std::tuple{L.weight_name, L.weight, std::vector<int64_t>{L.out, L.in}},
              std::tuple{L.bias_name, L.bias, std::vector<int64_t>{L.out}}}) {
            auto it = f.tensors.find(prefix + name);
            if (it == f.tensors.end()) throw ConfigError(source, prefix + name, "tensor is missing");
            if (it->second.shape != dims) {
                std::string got, want;
                for (auto d : it->second.shape) got += (got.empty() ? "" : ",") + std::to_string(d);
                for (auto d : dims) want += (want.empty() ? "" : ",") + std::to_string(d);
                throw ConfigError(source, prefix + name, "has shape [" + got + "], expected [" + want + "]");
            }
            std::copy(it->second.data.begin(), it->second.data.end(), v.begin() + std::ptrdiff_t(offset));
        }
    }
    return v;
}

}  // namespace

TensorFile model_file(const ModelShape& shape, const std::vector<float>& params,
                      std::map<std::string, std::string> metadata) {
    TensorFile f;
    metadata["format"] = "pt";
    f.metadata = std::move(metadata);
    put(f, "", shape, params);
    return f;
}

std::vector<float> params_from(const TensorFile& file, const ModelShape& shape, const std::string& source) {
    auto v = take(file, "", shape, source);
    const size_t expected = linear_layers(shape).size() * 2;
    if (file.tensors.size() != expected)
        for (const auto& [name, _] : file.tensors) {
            bool known = false;
            for (const auto& L : linear_layers(shape)) known = known || name == L.weight_name || name == L.bias_name;
            if (!known) throw ConfigError(source, name, "unexpected tensor for this model shape");
        }
    return v;
}

ModelShape shape_from(const TensorFile& file, const std::string& source) {
    ModelShape s;
    auto dims = [&](const std::string& name) {
        auto it = file.tensors.find(name);
        if (it == file.tensors.end() || it->second.shape.size() != 2)
            throw ConfigError(source, name, "tensor is missing or not a matrix; is this an SCA model file?");
        return it->second.shape;
    };
    // Checked against the config limits before anything is allocated for
    // the shape: a hostile header must not ask for gigabytes.
    auto dim = [&](const std::string& name, int64_t v, int lo, int hi) {
        if (v < lo || v > hi)
            throw ConfigError(source, name,
                              "has a dimension of " + std::to_string(v) + "; a model file's widths must be in [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return int(v);
    };
    const auto first = dims("encoder.0.weight");
    s.hidden = dim("encoder.0.weight", first[0], 1, Limits::kMaxHidden);
    s.input_dim = dim("encoder.0.weight", first[1], 1, Limits::kMaxInputDim);
    int enc_linears = 0;
    while (enc_linears <= Limits::kMaxLayers + 1 &&
           file.tensors.count("encoder." + std::to_string(2 * enc_linears) + ".weight"))
        ++enc_linears;
    s.layers = enc_linears - 1;
    if (s.layers < 1) throw ConfigError(source, "encoder", "has fewer than two Linear layers");
    if (s.layers > Limits::kMaxLayers)
        throw ConfigError(source, "encoder", "has more than " + std::to_string(Limits::kMaxLayers + 1) + " Linear layers");
    const std::string last = "encoder." + std::to_string(2 * s.layers) + ".weight";
    s.latent = dim(last, dims(last)[0], 1, Limits::kMaxLatent);
    params_from(file, s, source);  // validates every tensor against the inferred shape
    return s;
}

void save_train_state(const std::string& path, const ModelShape& shape, const TrainState& state,
                      std::map<std::string, std::string> metadata) {
    TensorFile f;
    metadata["next_step"] = std::to_string(state.next_step);
    f.metadata = std::move(metadata);
    put(f, "param.", shape, state.params);
    put(f, "exp_avg.", shape, state.exp_avg);
    put(f, "exp_avg_sq.", shape, state.exp_avg_sq);
    save_safetensors(path, f);
}

TrainState load_train_state(const std::string& path, const ModelShape& shape, std::map<std::string, std::string>* metadata) {
    const TensorFile f = load_safetensors(path);
    if (metadata) *metadata = f.metadata;
    TrainState s;
    s.params = take(f, "param.", shape, path);
    s.exp_avg = take(f, "exp_avg.", shape, path);
    s.exp_avg_sq = take(f, "exp_avg_sq.", shape, path);
    auto it = f.metadata.find("next_step");
    if (it == f.metadata.end()) throw ConfigError(path, "next_step", "metadata is missing");
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s.next_step);
    if (ec != std::errc() || end != text.data() + text.size() || s.next_step < 0)
        throw ConfigError(path, "next_step", "metadata '" + text + "' is not a step (a non-negative integer)");
    return s;
}

}  // namespace sca
