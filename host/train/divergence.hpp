// A run that diverged: its validation reconstruction rose far above its best
// and stayed there (e.g. H = 64 at lr 0.1: 0.0013 -> 0.06, output grey). Such
// a run finishes with finite numbers, so nothing else would flag it.
#pragma once
#include <cstddef>
#include <vector>

namespace sca {

struct Divergence {
    static constexpr double kFactor = 10;  // "far above": more than kFactor x the best
    static constexpr int kRecords = 2;     // "stays there": the last kRecords records all are
    bool diverged = false;
    double best = 0, last = 0;
    int best_step = 0;
};

// steps and recon: the validation records in order.
inline Divergence detect_divergence(const std::vector<int>& steps, const std::vector<double>& recon) {
    Divergence d;
    if (recon.empty()) return d;
    size_t best = 0;
    for (size_t i = 1; i < recon.size(); ++i)
        if (recon[i] < recon[best]) best = i;
    d.best = recon[best];
    d.best_step = steps[best];
    d.last = recon.back();
    const size_t after = recon.size() - 1 - best;  // records after the best one
    if (after == 0) return d;
    const size_t n = after < size_t(Divergence::kRecords) ? after : size_t(Divergence::kRecords);
    d.diverged = true;
    for (size_t i = recon.size() - n; i < recon.size(); ++i) d.diverged = d.diverged && recon[i] > Divergence::kFactor * d.best;
    return d;
}

}  // namespace sca
