#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, and train the
# default experiment (the paper's isolated setup) into runs/isolated.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
if [[ -e runs/isolated/model.safetensors ]]; then
  echo "setup: runs/isolated already holds a run; kept as it is"
else
  ./build/sca train experiments/isolated.yaml --out runs/isolated
fi
