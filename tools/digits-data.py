#!/usr/bin/env python3
"""Exports scikit-learn's digits (8x8 images, 1797 samples, bundled with
Debian's python3-sklearn) as NPY files for experiments/digits*.yaml.

    /usr/bin/python3 tools/digits-data.py [OUT_DIR]     (default: experiments/data/digits)

A fixed split: every 5th sample (index % 5 == 4) is held out for evaluation,
the rest train. Pixels are scaled to [0, 1] (float32, [N, 64]). Writes
train.inputs.npy, eval.inputs.npy, train.digits.npy / eval.digits.npy (each
sample's digit, for figures) and, for every digit d, train.label-d.npy (1 where
the sample is digit d: the label's probability) and eval.label-d.npy (0/1).
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "experiments", "data", "digits")
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    held_out = np.arange(len(y)) % 5 == 4
    for split, mask in (("train", ~held_out), ("eval", held_out)):
        np.save(os.path.join(out, f"{split}.inputs.npy"), x[mask])
        np.save(os.path.join(out, f"{split}.digits.npy"), y[mask].astype(np.float32))
        for d in range(10):
            np.save(os.path.join(out, f"{split}.label-{d}.npy"), (y[mask] == d).astype(np.float32))
    print(f"digits: {int((~held_out).sum())} training and {int(held_out.sum())} evaluation samples -> {out}")


if __name__ == "__main__":
    main()
