#pragma once
// FNV-1a, 64-bit: the content hash behind run ids, config hashes and the
// train-log hash a resume checks. Stable across platforms and releases, which
// std::hash is not.
#include <cstdint>
#include <string_view>

namespace sca {

inline uint64_t fnv1a64(std::string_view text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace sca
