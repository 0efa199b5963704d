#!/usr/bin/env bash
# `sca report` end to end (issue 6): the report of one run and of a directory
# of runs; every PNG decodes with the expected size, the HTML embeds them all,
# and headless Chromium loads the page from disk with no missing image and
# takes a screenshot. Exits 77 (skipped) without matplotlib or Chromium.
#   report_test.sh SCA_BINARY SOURCE_DIR [KEEP_DIR]
set -euo pipefail
sca=$1 src=$2
work=${3:-$(mktemp -d)}
[[ -z "${3:-}" ]] && trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
py=/usr/bin/python3
[[ -x $py ]] || py=python3
if ! $py -c "import matplotlib, numpy, yaml" 2>/dev/null; then
  echo "SKIP: no matplotlib/numpy/yaml for $py (tools/install-deps.sh installs python3-matplotlib)"; exit 77
fi
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then echo "SKIP: no chromium (tools/install-deps.sh installs it)"; exit 77; fi
check="$py $src/tests/report/check_report.py"

# Loads DIR/report.html (plus a check script, in a copy beside it) in headless
# Chromium: every image complete with a natural width, and a screenshot.
browse() {
  local dir=$1 want=$2
  sed 's#</body>#<div id="image-check">pending</div><script>window.addEventListener("load",()=>{const i=[...document.images];const bad=i.filter(x=>!(x.complete\&\&x.naturalWidth>0));document.getElementById("image-check").textContent="images "+i.length+" missing "+bad.length;});</script></body>#' \
    "$dir/report.html" > "$dir/report-check.html"
  local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --user-data-dir="$work/chromium"
               --hide-scrollbars)
  timeout 120 "$chromium" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$dir/report-check.html" \
    2>"$work/chromium.log" > "$dir/dom.html" || { cat "$work/chromium.log"; return 1; }
  local got
  got=$(grep -o 'images [0-9]* missing [0-9]*' "$dir/dom.html" || echo "no result (the page did not load)")
  echo "$dir: chromium: $got"
  [[ $got == "images $want missing 0" ]] || return 1
  timeout 120 "$chromium" "${flags[@]}" --window-size=1280,2400 --screenshot="$dir/screenshot.png" \
    "file://$dir/report.html" 2>>"$work/chromium.log" >/dev/null || { cat "$work/chromium.log"; return 1; }
  $py -c "import sys; sys.path.insert(0, '$src/tests/report'); from check_report import decode_png
size = decode_png(open('$dir/screenshot.png', 'rb').read()); print('screenshot', size); assert size == (1280, 2400)"
}

# One run of the isolated setup (0.2 s), evaluated with the NPY grids.
"$sca" train "$src/experiments/isolated.yaml" --out "$work/run" -q
"$sca" report "$work/run" -q
run_pngs=(latent.png=839x889 reconstructions.png=1100x619 error_hue.png=1089x360 error_similarity.png=919x360
          named_colours.png=750x600 schedule.png=900x520 training.png=900x420)
$check "$work/run" "${run_pngs[@]}"
browse "$work/run" 7

# A tiny set of runs, as a sweep leaves them (a directory of run
# directories, evaluated without grids): two anchor weights x two seeds.
for w in 0.05 0.2; do
  for seed in 0 1; do
    d="$work/sweep/runs/anchor$w-seed$seed"
    "$sca" train "$src/experiments/isolated.yaml" "schedule.keyframes.3.anchor=$w" "seed=$seed" --out "$d" -q --no-eval
    "$sca" eval "$d" --no-grids -q
  done
done
"$sca" report "$work/sweep" -q
sweep_pngs=(sweep-scores.png=840x330 sweep-pareto.png=1170x690 sweep-swept.png=600x359)
for p in "${run_pngs[@]}"; do sweep_pngs+=("sweep-best-$p"); done
$check "$work/sweep" "${sweep_pngs[@]}"
browse "$work/sweep" 10
# The report re-evaluated the best run with grids into its own folder; the runs are untouched.
if ls "$work"/sweep/runs/*/evaluation >/dev/null 2>&1; then echo "FAIL: a run directory gained NPY grids"; exit 1; fi
# The latent figure's star marks the run's own anchor colour.
"$sca" train "$src/experiments/isolated.yaml" 'evaluation.anchor_colour=[0,1,0]' --out "$work/green" -q
"$sca" train "$src/experiments/isolated.yaml" 'evaluation.anchor_colour=[0.9,0.2,0.1]' --out "$work/unnamed" -q
$py "$src/tests/report/check_anchor_star.py" "$src" "$work/green" "$work/unnamed"
echo "report_test: ok"
