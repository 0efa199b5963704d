// Which random words feed which draw. One Philox block per (step, sample):
// word 0 picks the grid point, words 1..3 the first three label draws; label
// l >= 3 reads block (l + 1) / 4. Both backends call these, so a seed gives
// the same batches and labels everywhere.
#pragma once
#include <cstdint>
#include "philox.hpp"

namespace sca {

SCA_HD inline uint32_t batch_point(uint64_t seed, uint32_t step, uint32_t sample, uint32_t n_points) {
    return uniform_index(draw(seed, Stream::Data, sample, step, 0).v[0], n_points);
}

SCA_HD inline float label_uniform(uint64_t seed, uint32_t step, uint32_t sample, uint32_t label) {
    const uint32_t word = label + 1;
    return uniform01(draw(seed, Stream::Data, sample, step, word / 4).v[word % 4]);
}

// Parameter tensor `tensor`, element `i`: U(-bound, bound) like nn.Linear's init.
SCA_HD inline float init_uniform(uint64_t seed, uint32_t tensor, uint32_t i, float bound) {
    const float u = uniform01(draw(seed, Stream::Init, i / 4, tensor, 0).v[i % 4]);
    return (2.0f * u - 1.0f) * bound;
}

}  // namespace sca
