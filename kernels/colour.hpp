// Colour math shared by data labelling and evaluation (docs/method.md §3 and 8).
#pragma once
#include <cmath>
#include "hd.hpp"

namespace sca {

struct Hsv {
    float h, s, v;  // h in [0, 1)
};

SCA_HD inline Hsv rgb_to_hsv(float r, float g, float b) {
    const float mx = fmaxf(r, fmaxf(g, b));
    const float mn = fminf(r, fminf(g, b));
    const float d = mx - mn;
    Hsv out{0.0f, mx > 0.0f ? d / mx : 0.0f, mx};
    if (d > 0.0f) {
        float h;
        if (mx == r) h = (g - b) / d;
        else if (mx == g) h = 2.0f + (b - r) / d;
        else h = 4.0f + (r - g) / d;
        h /= 6.0f;
        if (h < 0.0f) h += 1.0f;
        if (h >= 1.0f) h -= 1.0f;
        out.h = h;
    }
    return out;
}

enum class LabelFunction : int { Redness = 0, Greenness = 1, Blueness = 2, Vibrancy = 3 };

// How strongly a colour is the label's concept, in [0, 1] (docs/method.md §3).
SCA_HD inline float label_strength(LabelFunction f, float r, float g, float b) {
    switch (f) {
        case LabelFunction::Redness: return r * (1.0f - g / 2.0f - b / 2.0f);
        case LabelFunction::Greenness: return g * (1.0f - r / 2.0f - b / 2.0f);
        case LabelFunction::Blueness: return b * (1.0f - r / 2.0f - g / 2.0f);
        case LabelFunction::Vibrancy: {
            const Hsv c = rgb_to_hsv(r, g, b);
            return c.s * c.v;
        }
    }
    return 0.0f;
}

// p = scale * strength^power, the chance one draw of this colour is labelled.
SCA_HD inline float label_probability(LabelFunction f, float power, float scale, float r, float g, float b) {
    return scale * powf(label_strength(f, r, g, b), power);
}

// HSV similarity of a colour to the anchor colour (docs/method.md §8).
SCA_HD inline float anchor_similarity(Hsv c, Hsv a) {
    const float dh = fabsf(c.h - a.h);
    const float angle = 360.0f * fminf(dh, 1.0f - dh);
    const float hue_sim = fmaxf(0.0f, (90.0f - angle) / 90.0f);
    const float rho = (c.s * c.v + a.s * a.v) / 2.0f;
    const float eff = rho * hue_sim + (1.0f - rho);
    return eff * (1.0f - fabsf(c.s - a.s)) * (1.0f - fabsf(c.v - a.v));
}

}  // namespace sca
