#!/usr/bin/env bash
# The Python package (python/): installs from the tree with pip (offline: no
# build isolation, no dependency downloads), then sca_package.py checks it
# against runs of two shapes and against `sca eval`.
set -euo pipefail
sca=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 -m pip install -q --root-user-action=ignore --no-deps --no-build-isolation --target "$dir/site" "$src/python"
test -f "$dir/site/sca/__init__.py"
"$sca" train "$src/experiments/isolated.yaml" seed=4 --out "$dir/isolated" --quiet --backend cpu
# Not a paper shape: K 3, H 8, three layers a side.
"$sca" train "$src/experiments/anchored.yaml" seed=2 model.latent=3 model.hidden=8 model.layers=3 \
  'regularizers.anchor.direction=[1,0,0]' 'evaluation.interventions.0.direction=[1,0,0]' \
  --out "$dir/odd" --quiet --backend cpu
soft='falloff: 0.3, strength: 0.8, power: 1.5'
"$sca" eval "$dir/isolated" --quiet --prune 0 --ablate 1 --intervention "{name: soft, kind: suppression, direction: [1,1,0,0,0], $soft}"
"$sca" eval "$dir/odd" --quiet --prune 0 --ablate 1 --intervention "{name: soft, kind: suppression, direction: [1,1,0], $soft}"
cd "$dir"
PYTHONPATH="$dir/site:$src/tools" /usr/bin/python3 -B "$src/tests/python/sca_package.py" "$dir/isolated" "$dir/odd"
