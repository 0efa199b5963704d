// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
// Counter-based: the draw for (seed, step, sample) is a pure function of those
// numbers, so the CPU and GPU backends produce the same data stream without
// sharing generator state, and a resumed run redraws exactly what it skipped.
#pragma once
#include <cstdint>
#include "hd.hpp"

namespace sca {

struct Philox4 {
    uint32_t v[4];
};

SCA_HD inline Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                    uint32_t k0, uint32_t k1) {
    constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
    constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = uint64_t(kMul0) * c0;
        const uint64_t p1 = uint64_t(kMul1) * c2;
        const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
        const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += kWeyl0;
        k1 += kWeyl1;
    }
    return Philox4{{c0, c1, c2, c3}};
}

// Independent streams share a seed but never a counter.
enum class Stream : uint32_t { Init = 1, Data = 2 };

SCA_HD inline Philox4 draw(uint64_t seed, Stream stream, uint32_t a, uint32_t b, uint32_t c = 0) {
    return philox4x32_10(a, b, uint32_t(stream), c, uint32_t(seed), uint32_t(seed >> 32));
}

// Uniform float in [0, 1) from the top 24 bits: exact in float32.
SCA_HD inline float uniform01(uint32_t bits) { return float(bits >> 8) * (1.0f / 16777216.0f); }

// Integer in [0, n) by multiply-shift; the bias is below n / 2^32.
SCA_HD inline uint32_t uniform_index(uint32_t bits, uint32_t n) {
    return uint32_t((uint64_t(bits) * n) >> 32);
}

}  // namespace sca
