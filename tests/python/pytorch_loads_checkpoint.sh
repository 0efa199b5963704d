#!/usr/bin/env bash
# Trains a short isolated run, then loads its checkpoint into a PyTorch model.
set -euo pipefail
sca=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sca" train "$src/experiments/isolated.yaml" seed=4 --out "$dir/run" --quiet --backend cpu
/usr/bin/python3 "$src/tests/python/pytorch_loads_checkpoint.py" "$dir/run"
