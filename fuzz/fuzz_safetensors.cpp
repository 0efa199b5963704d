// The safetensors reader: decode_safetensors on hostile bytes (huge sizes,
// overlapping offsets, wrong dtypes, truncation), then what `sca eval` does
// with a model file (infer the shape, take the parameters), and a re-encode
// of anything accepted must decode again.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "host/config/checkpoint.hpp"
#include "host/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    sca::fuzz::expect_config_errors_only([&] {
        const sca::TensorFile f = sca::decode_safetensors(bytes, "fuzz.safetensors");
        try {
            sca::decode_safetensors(sca::encode_safetensors(f), "re-encoded");
        } catch (const sca::ConfigError& e) {
            std::fprintf(stderr, "an accepted file does not survive a re-encode: %s\n", e.what());
            std::abort();
        }
        const sca::ModelShape shape = sca::shape_from(f, "fuzz.safetensors");
        sca::params_from(f, shape, "fuzz.safetensors");
    });
    return 0;
}
