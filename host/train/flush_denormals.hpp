// Separation powers underflow into subnormals, which are very slow on x86
// (docs/method.md §9); flushing them changes no result and is deterministic.
// Every CPU trainer (cpu_backend, lane_trainer) trains inside one.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

namespace sca {

class FlushDenormals {
public:
    FlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | 0x8040);  // FTZ | DAZ
#endif
    }
    ~FlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
        _mm_setcsr(saved_);
#endif
    }

private:
    unsigned saved_ = 0;
};

}  // namespace sca
