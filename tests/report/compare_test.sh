#!/usr/bin/env bash
# sca compare: two runs and two sweeps side by side. The tables carry each
# side's own numbers (checked against its evaluation.json), every figure
# decodes, compare.html embeds them all; a run against a sweep is refused.
# Exits 77 (skipped) without matplotlib.
#   compare_test.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
if ! $py -c "import matplotlib, numpy, yaml" 2>/dev/null; then echo "SKIP: no matplotlib/numpy/yaml"; exit 77; fi
cd "$work"
"$sca" train "$src/experiments/isolated.yaml" --out a -q --backend cpu
"$sca" train "$src/experiments/isolated.yaml" seed=3 --out b -q --backend cpu --no-eval
"$sca" eval b --no-grids -q   # B has no grids: compare evaluates them into its own folder
"$sca" compare a b --out cmp-runs > runs.txt
test ! -e b/evaluation/rgb_grid.baseline.outputs.npy
"$sca" sweep "$src/experiments/sweeps/isolated-seeds.yaml" --out s1 --max-runs 3 -q
"$sca" sweep "$src/experiments/sweeps/anchored-seeds.yaml" --out s2 --max-runs 3 -q
"$sca" compare s1 s2 --out cmp-sweeps -q > sweeps.txt
# Several setups a side (two shards of the paper sweep): compared setup by setup, never pooled.
"$sca" sweep "$src/experiments/sweeps/paper.yaml" --out p1 --shard 0/10 -q
"$sca" sweep "$src/experiments/sweeps/paper.yaml" --out p2 --shard 1/10 -q
"$sca" compare p1 p2 --out cmp-paper -q > paper.txt
if "$sca" compare a s1 --out x 2> mixed.txt; then echo "FAIL: a run against a sweep was accepted"; exit 1; fi
grep -q "compare two runs or two sweeps" mixed.txt
$py - "$src" <<'PY'
import json, re, sys
sys.path.insert(0, f"{sys.argv[1]}/tests/report")
from check_report import decode_png

def row(text, label):
    m = re.search(rf"^{re.escape(label)}\s+(\S+)\s+(\S+)\s*$", text, re.M)
    assert m, f"no row '{label}' in:\n{text}"
    return m.group(1), m.group(2)

text = open("runs.txt").read()
for side, d in enumerate(("a", "b")):
    ev = json.load(open(f"{d}/evaluation.json"))
    for v in ev["interventions"]:
        assert row(text, f"score {v['name']}")[side] == f"{v['score']:.4g}", (d, v["name"])
assert row(text, "seed") == ("0", "3")
sweeps = open("sweeps.txt").read()
assert row(sweeps, "run directories") == ("3", "3") and "best (score, front size)" in sweeps
import glob, statistics
paper = open("paper.txt").read()
for side, d in enumerate(("p1", "p2")):
    for setup in ("anchored", "isolated"):
        scores = [v["score"] for f in glob.glob(f"{d}/runs/{setup}_*/evaluation.json")
                  for v in json.load(open(f))["interventions"] if v["name"] == "ablated"]
        assert len(scores) == 2, (d, setup, scores)
        assert row(paper, f"{setup}: score ablated median")[side] == f"{statistics.median(scores):.4g}", (d, setup)
for d, n in (("cmp-runs", 2), ("cmp-sweeps", 2), ("cmp-paper", 2)):
    html = open(f"{d}/compare.html").read()
    imgs = re.findall(r'data-file="([^"]+)"', html)
    assert len(imgs) == n, (d, imgs)
    for f in imgs:
        decode_png(open(f"{d}/{f}", "rb").read())
print("compare_test: ok")
PY
