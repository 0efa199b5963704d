#!/usr/bin/env python3
"""Writes synthetic data for experiments/wide.yaml: N samples of width D
(float32, [N, D]) and one concept's label probabilities ([N]).

    /usr/bin/python3 tools/wide-data.py [OUT_DIR] [--rows N] [--dim D] [--seed S]
    (default: experiments/data/wide, 8192 rows, 768 columns)

The inputs are a random low-rank signal plus noise, like embeddings: 32
latent factors mixed into D columns. A sample carries the concept (label 1)
when its first factor is above 1 (about 16% of samples), else 0; the first
factor also shifts the sample along its own direction, so the concept is
recoverable from the inputs. Writes inputs.npy and concept.npy.
"""
import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "experiments", "data", "wide"))
    ap.add_argument("--rows", type=int, default=8192)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    factors = rng.standard_normal((a.rows, 32))
    mixing = rng.standard_normal((32, a.dim)) / np.sqrt(32)
    x = factors @ mixing + 0.1 * rng.standard_normal((a.rows, a.dim))
    concept = (factors[:, 0] > 1.0).astype(np.float32)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "inputs.npy"), x.astype(np.float32))
    np.save(os.path.join(a.out, "concept.npy"), concept)
    print(f"wrote {a.rows} x {a.dim} inputs and {int(concept.sum())} concept samples to {a.out}")


if __name__ == "__main__":
    main()
