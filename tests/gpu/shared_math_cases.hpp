// Shared kernels/ math evaluated by one function that runs either on the
// host or inside a one-thread kernel (the cuCollections pattern): the test
// compares both against the same expected values.
#pragma once
#include <cstdint>
#include <vector>

namespace sca::gpu_test {

// Every output of the shared-math cases, flattened: integer results as
// uint32 words, float results as floats.
struct SharedMathResults {
    std::vector<uint32_t> words;
    std::vector<float> values;
};

constexpr int kSharedMathWords = 64;
constexpr int kSharedMathValues = 256;

SharedMathResults shared_math_on_host();
SharedMathResults shared_math_on_device();  // throws if no device

}  // namespace sca::gpu_test
