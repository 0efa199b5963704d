// NPY data files (data.inputs, labels.NAME.file, evaluation.*): the strict
// reader, then the shape and value checks, as a matrix and as a label vector.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "host/config/data_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (auto [rank, values] : {std::pair{2, sca::DataValues::Finite}, std::pair{1, sca::DataValues::Probability},
                                std::pair{1, sca::DataValues::ZeroOne}}) {
        sca::fuzz::expect_config_errors_only([&, rank = rank, values = values] {
            const sca::DataMatrix m = sca::decode_data_file(bytes, "fuzz.npy", "data.inputs", rank, values);
            if (size_t(m.rows) * size_t(m.cols) != m.values.size()) {
                std::fprintf(stderr, "shape [%d, %d] does not hold %zu values\n", m.rows, m.cols, m.values.size());
                std::abort();
            }
            for (float v : m.values)
                if (!std::isfinite(v) || (values != sca::DataValues::Finite && (v < 0 || v > 1))) {
                    std::fprintf(stderr, "a value the checks should have refused: %g\n", v);
                    std::abort();
                }
        });
    }
    return 0;
}
