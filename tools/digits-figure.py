#!/usr/bin/env python3
"""The digits examples' figure: one held-out image of each digit, its
reconstruction by the trained model, and after each ablation.

    /usr/bin/python3 tools/digits-figure.py RUN_DIGITS RUN_DIGITS_TWO OUT.png

RUN_DIGITS is a run of experiments/digits.yaml, RUN_DIGITS_TWO one of
experiments/digits-two.yaml (each evaluated, with its evaluation/ NPY files).
Prints each row's per-digit error so the figure's claim can be checked.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "experiments", "data", "digits")


def outputs(run, variant):
    return np.load(os.path.join(run, "evaluation", f"held_out.{variant}.outputs.npy"))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    one, two, out = sys.argv[1:]
    for run in (one, two):
        if not os.path.exists(os.path.join(run, "evaluation.json")):
            sys.exit(f"{run}: no evaluation.json (train it with sca train, or run sca eval)")
    x = np.load(os.path.join(DATA, "eval.inputs.npy"))
    digit = np.load(os.path.join(DATA, "eval.digits.npy")).astype(int)
    pick = [int(np.flatnonzero(digit == d)[0]) for d in range(10)]
    rows = [("input", x),
            ("digits: trained", outputs(one, "baseline")),
            ("digits: ablated (axis 0)", outputs(one, "ablated")),
            ("digits-two: trained", outputs(two, "baseline")),
            ("digits-two: ablate-zero", outputs(two, "ablate-zero")),
            ("digits-two: ablate-one", outputs(two, "ablate-one"))]
    fig, axes = plt.subplots(len(rows), 10, figsize=(10, 1.15 * len(rows)))
    for r, (name, images) in enumerate(rows):
        errors = [float(np.mean((images[digit == d] - x[digit == d]) ** 2)) for d in range(10)]
        print(f"{name:26s} " + " ".join(f"{e:.4f}" for e in errors))
        for d in range(10):
            ax = axes[r][d]
            ax.imshow(np.clip(images[pick[d]], 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(str(d))
            if d == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("Held-out digits before and after ablating the anchored axis (mean MSE per digit printed by the script)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
