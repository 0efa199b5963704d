// Checkpoint files: exact round trips and refusal of malformed files.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "host/config/checkpoint.hpp"
#include "host/io/errors.hpp"

using namespace sca;

TEST_CASE("safetensors round-trips every bit, including odd floats", "[checkpoint]") {
    TensorFile f;
    f.metadata["config"] = "seed: 1\nmodel: {latent: 4}\n";
    f.tensors["a"] = Tensor{{2, 3}, {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), 3e38f,
                                     std::numeric_limits<float>::infinity(), std::nanf("")}};
    f.tensors["b.bias"] = Tensor{{0}, {}};
    const std::string bytes = encode_safetensors(f);
    const TensorFile g = decode_safetensors(bytes, "mem");
    CHECK(g.metadata == f.metadata);
    REQUIRE(g.tensors.size() == 2);
    CHECK(g.tensors.at("a").shape == std::vector<int64_t>{2, 3});
    CHECK(std::memcmp(g.tensors.at("a").data.data(), f.tensors.at("a").data.data(), 6 * 4) == 0);
}

TEST_CASE("model files use PyTorch's names and layouts and round-trip", "[checkpoint]") {
    const ModelShape shape{3, 16, 2, 5};
    const auto params = init_parameters(shape, 9);
    const TensorFile f = model_file(shape, params, {{"step", "7"}});
    CHECK(f.tensors.size() == 12);
    CHECK(f.tensors.at("encoder.0.weight").shape == std::vector<int64_t>{16, 3});
    CHECK(f.tensors.at("encoder.4.weight").shape == std::vector<int64_t>{5, 16});
    CHECK(f.tensors.at("decoder.0.weight").shape == std::vector<int64_t>{16, 5});
    CHECK(f.tensors.at("decoder.4.bias").shape == std::vector<int64_t>{3});
    const TensorFile g = decode_safetensors(encode_safetensors(f), "mem");
    const ModelShape inferred = shape_from(g, "mem");
    CHECK(inferred.hidden == 16);
    CHECK(inferred.layers == 2);
    CHECK(inferred.latent == 5);
    const auto back = params_from(g, shape, "mem");
    CHECK(std::memcmp(back.data(), params.data(), params.size() * 4) == 0);
    // Init bound: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    for (float w : g.tensors.at("encoder.2.weight").data) CHECK(std::abs(w) <= 0.25f);
}

TEST_CASE("malformed safetensors are rejected with a message", "[checkpoint][errors]") {
    TensorFile f;
    f.tensors["w"] = Tensor{{2}, {1, 2}};
    const std::string good = encode_safetensors(f);
    auto header_with = [&](const std::string& json) {
        std::string s(8, '\0');
        const uint64_t n = json.size();
        for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
        return s + json + std::string(8, '\0');
    };
    CHECK_THROWS_WITH(decode_safetensors("abc", "f"), Catch::Contains("shorter than"));
    CHECK_THROWS_WITH(decode_safetensors(good.substr(0, good.size() - 3), "f"), Catch::Contains("outside the data"));
    std::string huge = good;
    huge[7] = char(0x7f);
    CHECK_THROWS_WITH(decode_safetensors(huge, "f"), Catch::Contains("header length"));
    CHECK_THROWS_WITH(decode_safetensors(header_with(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})"), "f"), Catch::Contains("only F32"));
    CHECK_THROWS_WITH(decode_safetensors(header_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})"), "f"), Catch::Contains("4 bytes for 2 floats"));
    CHECK_THROWS_WITH(decode_safetensors(header_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})"), "f"), Catch::Contains("overlap"));
    CHECK_THROWS_WITH(decode_safetensors(header_with("{not json"), "f"), Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(decode_safetensors(header_with(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})"), "f"), Catch::Contains("negative"));
}

TEST_CASE("a model file of the wrong shape is refused naming the tensor", "[checkpoint][errors]") {
    const ModelShape small{3, 8, 1, 4}, other{3, 8, 1, 5};
    const TensorFile f = model_file(small, init_parameters(small, 1), {});
    CHECK_THROWS_WITH(params_from(f, other, "m.safetensors"), Catch::Contains("m.safetensors: encoder.2.weight: has shape [4,8], expected [5,8]"));
}

TEST_CASE("a file with no tensors encodes as an empty JSON object and reads back", "[checkpoint]") {
    const std::string bytes = encode_safetensors(TensorFile{});
    CHECK(bytes.substr(8, 2) == "{}");
    const TensorFile back = decode_safetensors(bytes, "mem");
    CHECK(back.tensors.empty());
    CHECK(back.metadata.empty());
}

TEST_CASE("a model file with a 64-wide latent round-trips and a 257-wide one is refused", "[checkpoint][latent]") {
    const ModelShape shape{3, 8, 1, 64};
    const auto params = init_parameters(shape, 4);
    const TensorFile g = decode_safetensors(encode_safetensors(model_file(shape, params, {})), "mem");
    CHECK(shape_from(g, "mem").latent == 64);
    const auto back = params_from(g, shape, "mem");
    CHECK(std::memcmp(back.data(), params.data(), params.size() * 4) == 0);

    const ModelShape too_wide{3, 8, 1, 257};
    const TensorFile h = model_file(too_wide, init_parameters(too_wide, 4), {});
    CHECK_THROWS_WITH(shape_from(h, "wide.safetensors"),
                      Catch::Contains("encoder.2.weight") && Catch::Contains("[1, 256]"));
}
