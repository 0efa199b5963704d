"""docs/method.md §8's colour maths in numpy, shared by the Python checkers and the
report: RGB to HSV, and the similarity of colours to the anchor colour."""
import numpy as np


def rgb_to_hsv(rgb):
    """rgb [..., 3] in [0, 1] -> hsv [..., 3] with h in [0, 1)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    h = np.where(mx == r, ((g - b) / safe) % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = np.where(delta > 0, h / 6.0, 0.0) % 1.0
    s = np.where(mx > 0, delta / np.where(mx > 0, mx, 1.0), 0.0)
    return np.stack([h, s, mx], axis=-1)


def similarity(hsv, anchor_hsv):
    """docs/method.md §8's similarity of HSV colours [..., 3] to the anchor's HSV."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    ha, sa, va = anchor_hsv
    d = np.abs(h - ha)
    angle = 360.0 * np.minimum(d, 1.0 - d)
    hue_sim = np.maximum(0.0, (90.0 - angle) / 90.0)
    rho = (s * v + sa * va) / 2.0
    eff = rho * hue_sim + (1.0 - rho)
    return eff * (1.0 - np.abs(s - sa)) * (1.0 - np.abs(v - va))
